"""Row Level Security: the app role sees only the rows of the tenant it acts for

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

The service connects as the owner but switches every connection to `crm_app` (no
BYPASSRLS, owns nothing); each transaction names its tenant in `app.tenant_id`, and a
policy on every tenant table compares rows against it. With no tenant named, a query
sees nothing. API keys are checked before any tenant is known, by one SECURITY DEFINER
function that returns only the caller's identity.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "crm_app"
TENANT_TABLES = (
    "leads",
    "lead_messages",
    "lead_analyses",
    "sales",
    "stage_changes",
    "users",
    "api_keys",
)
CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::bigint"

AUTHENTICATE_KEY = """
CREATE FUNCTION crm_authenticate_api_key(p_prefix text, p_secret_hash text)
RETURNS TABLE (api_key_id bigint, tenant_id bigint, user_id bigint, email text, role text)
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
  WITH found AS (
    SELECT k.id, k.tenant_id, u.id, u.email::text, u.role::text
    FROM api_keys k JOIN users u ON u.id = k.user_id
    WHERE k.prefix = p_prefix AND k.secret_hash = p_secret_hash
      AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
      AND u.active
  ), touched AS (
    UPDATE api_keys SET last_used_at = now()
    WHERE api_keys.id IN (SELECT f.id FROM found AS f (id, t, u, e, r))
      AND (api_keys.last_used_at IS NULL
           OR api_keys.last_used_at < now() - interval '1 minute')
  )
  SELECT * FROM found
$$
"""


def upgrade() -> None:
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} NOLOGIN NOBYPASSRLS;
          END IF;
        END $$
        """
    )
    op.execute(f"GRANT {APP_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT ON tenants TO {APP_ROLE}")
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    for table in TENANT_TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )
    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON tenants USING (id = {CURRENT_TENANT})")
    op.execute(AUTHENTICATE_KEY)
    op.execute("REVOKE ALL ON FUNCTION crm_authenticate_api_key(text, text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION crm_authenticate_api_key(text, text) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION crm_authenticate_api_key(text, text)")
    for table in (*TENANT_TABLES, "tenants"):
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
