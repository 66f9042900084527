"""Live updates: committed events reach the subscribers of every server process.

`listener` hears the journal's notifications, `hub` fans them out per tenant into
bounded mailboxes, `figures` derives the debounced pipeline figures; `live` wires them
for one process. The GraphQL side is schema/subscription.py, resolvers/subscriptions.py
and the WebSocket transport web/graphql_ws.py.
"""
