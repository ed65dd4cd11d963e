"""Catalog service: categories, products and product media."""
