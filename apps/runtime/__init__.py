"""The shared service runtime: one way to configure, route database traffic, cache, observe and fail."""
