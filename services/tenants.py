"""Tenants: the companies that share one database, each seeing only its own rows."""

from db.database import Database
from db.queries import tenants
from services.validation import Checks

DEMO_TENANT = "Demo"


async def tenant_named(*, db: Database, name: str) -> int:
    """The id of the tenant with this name, creating it first if there is none. Run as
    the owner (set-up and `create-admin`), never by a request."""
    checks = Checks()
    clean = checks.text(name, ("tenant",), max_length=200, required=True)
    checks.raise_if_any()
    assert clean is not None  # required=True: a missing name has failed the checks above
    async with db.exclusive(_TENANTS_LOCK), db.transaction() as conn:
        found = await tenants.id_named(conn, name=clean)
        return found if found is not None else await tenants.insert_tenant(conn, name=clean)


_TENANTS_LOCK = 0x43524D_54454E54  # "CRM" "TENT"
