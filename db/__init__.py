"""Persistence: table models, the engine, and the queries the services and loaders call."""
