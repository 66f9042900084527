"""Webhooks: endpoints an admin registers, and signed deliveries of events to them.

- endpoints: create, change, delete, rotate the secret (admins; audited)
- deliveries: one per event and endpoint, made in the event's own transaction; redelivery
- attempts: what the worker does with one attempt, and what follows from it
- payload, signing, sender, url_safety, schedule: the body, its signature, the POST, where
  it may go, and when a failed attempt is tried again
"""
