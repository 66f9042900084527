"""The worker's job queue: procrastinate's schema, pinned, in a schema of its own

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

The worker (`python -m server worker`) runs its jobs on procrastinate, which keeps its
queue in PostgreSQL, so that every worker and server on the database shares it safely.
Its tables and functions go into the schema `procrastinate`, built from the SQL the
pinned procrastinate ships; the schema's comment records that version, and
worker/queue_schema.py explains how a later migration upgrades it. The app role gets
nothing here: it defers jobs only through the function of migration 0009.
"""

from collections.abc import Sequence

from alembic import op
from worker.queue_schema import create_queue, drop_queue

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_queue(op.get_bind())


def downgrade() -> None:
    drop_queue(op.get_bind())
