"""Who is acting, and for which tenant: passed to every service call."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    tenant_id: int
    actor: str | None = None
