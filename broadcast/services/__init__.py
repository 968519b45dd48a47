"""Writes and business rules of the broadcast app, one module per area."""
