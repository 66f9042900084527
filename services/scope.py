"""Who is acting, and for which tenant: passed to every service call."""

from dataclasses import dataclass

from domain.access import Role


@dataclass(frozen=True, slots=True)
class Scope:
    """An authenticated caller: the tenant it acts in, and who it is.

    `actor` is the name stage history and audit records carry (the user's e-mail);
    `api_key_prefix` (the key's public part) and `request_id` go into the audit log too.
    """

    tenant_id: int
    actor: str | None = None
    user_id: int | None = None
    role: Role | None = None
    api_key_id: int | None = None
    api_key_prefix: str | None = None
    request_id: str | None = None
