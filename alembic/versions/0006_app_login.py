"""The app logs in as crm_app itself; history tables are append-only

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

A session that logs in as the owner and merely starts as crm_app could `SET ROLE` back
to the owner; a session that logs in as crm_app cannot become anything else. The role
gets LOGIN without a password: local trust lets the embedded server and tests in, and in
production an operator sets a password (or creates a login role that is a member of
crm_app) and passes it as CRM_APP_DATABASE_URL. The key check function names its tables
in full and searches pg_temp last, so no temporary table can stand in for them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "crm_app"
HISTORY = ("stage_changes", "lead_messages", "lead_analyses")

AUTHENTICATE_KEY = """
CREATE OR REPLACE FUNCTION public.crm_authenticate_api_key(p_prefix text, p_secret_hash text)
RETURNS TABLE (api_key_id bigint, tenant_id bigint, user_id bigint, email text, role text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  WITH found AS (
    SELECT k.id, k.tenant_id, u.id, u.email::text, u.role::text
    FROM public.api_keys k JOIN public.users u ON u.id = k.user_id AND u.tenant_id = k.tenant_id
    WHERE k.prefix = p_prefix AND k.secret_hash = p_secret_hash
      AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
      AND u.active
  ), touched AS (
    UPDATE public.api_keys SET last_used_at = now()
    WHERE public.api_keys.id IN (SELECT f.id FROM found AS f (id, t, u, e, r))
      AND (public.api_keys.last_used_at IS NULL
           OR public.api_keys.last_used_at < now() - interval '1 minute')
  )
  SELECT * FROM found
$$
"""


def upgrade() -> None:
    op.execute(f"ALTER ROLE {APP_ROLE} LOGIN")
    op.execute(AUTHENTICATE_KEY)
    for table in HISTORY:
        op.execute(f"REVOKE UPDATE ON {table} FROM {APP_ROLE}")


def downgrade() -> None:
    # The role belongs to the whole cluster (other databases may log in with it): it
    # keeps LOGIN, as 0004 keeps the role itself.
    for table in HISTORY:
        op.execute(f"GRANT UPDATE ON {table} TO {APP_ROLE}")
