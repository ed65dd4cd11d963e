-- Expand step: a nullable column the previous release simply ignores (its INSERTs still succeed).
ALTER TABLE products ADD COLUMN brand VARCHAR(100) NULL AFTER name;
