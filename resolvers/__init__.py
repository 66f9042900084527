"""Thin resolvers: decode IDs and input, call one service or loader, shape the payload.

Resolvers return database records and plain dataclasses; the types in `schema/` read them.
"""
