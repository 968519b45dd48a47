"""Reads and queries of the broadcast app, one module per area."""
