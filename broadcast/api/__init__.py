"""HTTP API of the broadcast app, one module per area (bulletins, schedules, station, reports)."""
