"""The HTTP layer: routers per resource and their dependencies."""
