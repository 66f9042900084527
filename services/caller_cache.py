"""This process's memory of who a credential stands for, so most requests skip the check.

A credential that held up is remembered, under the SHA-256 of the whole credential, for
`CRM_AUTH_CACHE_SECONDS` at most and never past its own expiry; refusals are not
remembered. The cache stays correct by being told of every change to access:

- PostgreSQL announces each change that matters (migration 0016) on `crm_access`, and the
  server's event listener passes it on (`access_changed`): that tenant's callers are
  forgotten, in every process, within the notification's delay.
- The process that makes the change forgets at once, before answering (the services that
  revoke keys and change users call `access_changed` themselves).
- Only while the listener is connected can a notification be trusted to arrive: until
  `listening()`, and from `deaf()` on, nothing is answered and nothing stored.

Every change also voids the tickets handed out before it: a check that read the database
before a change finished must not store what it read after the change was announced.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.scope import Scope

MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Entry:
    scope: Scope
    valid_until: datetime


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CallerCache:
    def __init__(
        self,
        *,
        seconds: int,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._lifetime = timedelta(seconds=seconds)
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()  # oldest first
        self._listening = False
        self._generation = 0

    @property
    def enabled(self) -> bool:
        return self._lifetime > timedelta(0)

    def recall(self, credential: str) -> Scope | None:
        """The caller this credential was last checked to be, if that may still be trusted."""
        if not self._listening:
            return None
        key = _key(credential)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.valid_until <= self._clock():
            del self._entries[key]
            return None
        return entry.scope

    def ticket(self) -> int | None:
        """Taken before checking a credential, handed to `remember` after; None when
        nothing may be remembered now (caching off, or the listener not connected)."""
        return self._generation if self.enabled and self._listening else None

    def remember(
        self, credential: str, scope: Scope, *, expires_at: datetime | None, ticket: int
    ) -> None:
        """Keep a caller checked under `ticket`, unless access changed since it was taken.
        `expires_at` is the credential's own end (None: it has none)."""
        if ticket != self._generation:
            return
        now = self._clock()
        valid_until = now + self._lifetime
        if expires_at is not None:
            valid_until = min(valid_until, expires_at)
        if valid_until <= now:
            return
        key = _key(credential)
        self._entries.pop(key, None)
        self._entries[key] = _Entry(scope, valid_until)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def access_changed(self, tenant_id: int) -> None:
        """A key or a user of this tenant changed: forget all of its callers."""
        self._generation += 1
        stale = [key for key, entry in self._entries.items() if entry.scope.tenant_id == tenant_id]
        for key in stale:
            del self._entries[key]

    def listening(self) -> None:
        """The listener is connected: every change from now on will be announced."""
        self._generation += 1
        self._listening = True

    def deaf(self) -> None:
        """The listener lost its connection: a change may go unannounced, so nothing
        remembered may be trusted, and nothing is until it listens again."""
        self._generation += 1
        self._listening = False
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _key(credential: str) -> bytes:
    return hashlib.sha256(credential.encode()).digest()
