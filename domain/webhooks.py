"""Webhook deliveries: where one stands. (The retry schedule is services/webhooks/schedule.py.)"""

from enum import Enum


class DeliveryStatus(Enum):
    PENDING = "pending"  # waiting for its first or next attempt
    SUCCEEDED = "succeeded"  # the endpoint answered 2xx
    FAILED = "failed"  # every attempt failed, or the endpoint was disabled; re-deliverable
