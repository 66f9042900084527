"""The tenant the current request acts for, as Row Level Security sees it.

The HTTP layer names the tenant once per request (`acting_for`); every transaction the
request opens then sets `app.tenant_id`, and the policies of every tenant table compare
rows against it. Code that forgets a tenant filter still sees only its own tenant's rows.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

APP_ROLE = "crm_app"
TENANT_SETTING = "app.tenant_id"

_current_tenant: ContextVar[int | None] = ContextVar("current_tenant", default=None)


def current_tenant() -> int | None:
    return _current_tenant.get()


@contextmanager
def acting_for(tenant_id: int) -> Iterator[None]:
    """Everything in the block (and the tasks it starts) reads and writes as this tenant."""
    token = _current_tenant.set(tenant_id)
    try:
        yield
    finally:
        _current_tenant.reset(token)
