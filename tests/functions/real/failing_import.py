"""Raises while being imported (for an init error with source lines)."""

raise RuntimeError("import-time failure")
