"""Relay global IDs as this API issues them: base64 of "Type:id", opaque to clients.

Webhook bodies name objects by the same IDs as the GraphQL API; resolvers/ids.py judges
the IDs clients send back.
"""

import base64


def to_global_id(type_name: str, db_id: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{db_id}".encode()).decode().rstrip("=")
