"""Access notifications: a change to a key or a user that matters announces its tenant

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26

Each server process remembers the callers it checked (services/caller_cache.py). So that
none is honoured after its key is revoked or changed, or its user is deactivated, changes
role, e-mail or tenant, or either is deleted, AFTER triggers send the tenant's id on
`crm_access` (the old and the new tenant when a row moves); every process's listener then
forgets that tenant's callers. The notification goes out at commit and never for a
rolled-back change; PostgreSQL sends one per tenant per transaction however many rows
changed. Noting a key's use (`last_used_at`) announces nothing: it happens all the time
and changes nobody's access.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns whose change alters what a credential grants.
KEY_COLUMNS = ("revoked_at", "expires_at", "user_id", "tenant_id", "prefix", "secret_hash")
USER_COLUMNS = ("active", "role", "email", "tenant_id")

NOTIFY = """
CREATE FUNCTION public.crm_access_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_notify('crm_access', OLD.tenant_id::text);
  IF TG_OP = 'UPDATE' AND NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN
    PERFORM pg_notify('crm_access', NEW.tenant_id::text);
  END IF;
  RETURN NULL;
END
$$
"""


def _changed(columns: Sequence[str]) -> str:
    return " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in columns)


def _create_triggers(table: str, columns: Sequence[str]) -> None:
    op.execute(
        f"CREATE TRIGGER access_changed AFTER UPDATE OF {', '.join(columns)} ON {table} "
        f"FOR EACH ROW WHEN ({_changed(columns)}) "
        "EXECUTE FUNCTION public.crm_access_notify()"
    )
    op.execute(
        f"CREATE TRIGGER access_removed AFTER DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION public.crm_access_notify()"
    )


def upgrade() -> None:
    op.execute(NOTIFY)
    _create_triggers("api_keys", KEY_COLUMNS)
    _create_triggers("users", USER_COLUMNS)


def downgrade() -> None:
    for table in ("users", "api_keys"):
        op.execute(f"DROP TRIGGER access_removed ON {table}")
        op.execute(f"DROP TRIGGER access_changed ON {table}")
    op.execute("DROP FUNCTION public.crm_access_notify()")
