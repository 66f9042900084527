"""Who is acting, and for which tenant: passed to every service call."""

from dataclasses import dataclass

from domain.access import Role


@dataclass(frozen=True, slots=True)
class Scope:
    """An authenticated caller: the tenant it acts in, and who it is.

    `actor` is the name stage history and audit records carry (the user's e-mail).
    """

    tenant_id: int
    actor: str | None = None
    user_id: int | None = None
    role: Role | None = None
    api_key_id: int | None = None
