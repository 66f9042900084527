"""The cache of callers on its own: what it remembers, for how long, and what voids it.

Servers, the listener and real changes of access are in tests/api/test_caller_cache.py.
"""

from datetime import UTC, datetime, timedelta

from domain.access import Role
from services.caller_cache import CallerCache
from services.scope import Scope

KEY = "crm_0123456789ab_" + "A" * 43
OTHER_KEY = "crm_0123456789ab_" + "B" * 43
SCOPE = Scope(tenant_id=1, actor="a@example.com", user_id=7, role=Role.MANAGER, api_key_id=3)
OTHER_TENANT = Scope(tenant_id=2, actor="b@example.com", user_id=8, role=Role.VIEWER)


START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = START + timedelta(seconds=seconds)


def listening_cache(
    seconds: int = 60, max_entries: int = 100, clock: Clock | None = None
) -> CallerCache:
    cache = CallerCache(seconds=seconds, max_entries=max_entries, clock=clock or Clock())
    cache.listening()
    return cache


def remembered(
    cache: CallerCache, key: str, scope: Scope, expires_at: datetime | None = None
) -> CallerCache:
    ticket = cache.ticket()
    assert ticket is not None
    cache.remember(key, scope, expires_at=expires_at, ticket=ticket)
    return cache


def test_a_remembered_caller_is_recalled_by_its_credential_only() -> None:
    # given a caller remembered for its key
    cache = remembered(listening_cache(), KEY, SCOPE)
    # when the key and another one are recalled
    # then only that key's caller comes back
    assert cache.recall(KEY) == SCOPE
    assert cache.recall(OTHER_KEY) is None


def test_the_credential_itself_is_never_kept() -> None:
    # given a remembered key
    cache = remembered(listening_cache(), KEY, SCOPE)
    # when its entries are looked at
    keys = list(cache._entries)
    # then they hold a digest, not the secret
    assert len(keys) == 1
    assert KEY.encode() not in keys[0]
    assert len(keys[0]) == 32


def test_nothing_is_answered_or_kept_before_the_listener_connects() -> None:
    # given a cache whose listener has not connected yet
    cache = CallerCache(seconds=60)
    # when a caller is to be remembered
    # then there is no ticket to do it with, and nothing is recalled
    assert cache.ticket() is None
    assert cache.recall(KEY) is None


def test_a_change_of_access_meanwhile_voids_the_ticket() -> None:
    # given a check that began (its ticket taken) before a change of access in its tenant
    cache = listening_cache()
    ticket = cache.ticket()
    assert ticket is not None
    cache.access_changed(SCOPE.tenant_id)
    # when what it read is remembered after the change
    cache.remember(KEY, SCOPE, expires_at=None, ticket=ticket)
    # then it is not: it may predate the change
    assert cache.recall(KEY) is None


def test_a_change_forgets_every_caller_of_that_tenant_only() -> None:
    # given callers of two tenants
    cache = remembered(listening_cache(), KEY, SCOPE)
    remembered(cache, OTHER_KEY, OTHER_TENANT)
    # when access changes in the first tenant
    cache.access_changed(SCOPE.tenant_id)
    # then its caller is forgotten and the other tenant's is not
    assert cache.recall(KEY) is None
    assert cache.recall(OTHER_KEY) == OTHER_TENANT


def test_losing_the_listener_forgets_everything_and_refuses_until_it_is_back() -> None:
    # given a remembered caller
    cache = remembered(listening_cache(), KEY, SCOPE)
    ticket = cache.ticket()
    assert ticket is not None
    # when the listener loses its connection
    cache.deaf()
    # then nothing is recalled or kept, not even with a ticket from before
    assert cache.recall(KEY) is None
    assert cache.ticket() is None
    cache.remember(KEY, SCOPE, expires_at=None, ticket=ticket)
    assert len(cache) == 0
    # and once it listens again, callers are remembered afresh
    cache.listening()
    remembered(cache, KEY, SCOPE)
    assert cache.recall(KEY) == SCOPE


def test_a_caller_is_not_remembered_past_its_credentials_expiry() -> None:
    # given a key that expires in 5 seconds, one that has expired, and a 60-second cache
    clock = Clock()
    cache = listening_cache(seconds=60, clock=clock)
    remembered(cache, KEY, SCOPE, expires_at=START + timedelta(seconds=5))
    remembered(cache, OTHER_KEY, OTHER_TENANT, expires_at=START - timedelta(seconds=1))
    # then the expired one is not kept at all, and the other only until it expires
    assert cache.recall(OTHER_KEY) is None
    clock.at(4.9)
    assert cache.recall(KEY) == SCOPE
    clock.at(5)
    assert cache.recall(KEY) is None


def test_a_caller_is_remembered_for_the_configured_seconds_at_most() -> None:
    # given a cache that remembers for 60 seconds, and a key with no expiry
    clock = Clock()
    cache = remembered(listening_cache(seconds=60, clock=clock), KEY, SCOPE)
    # then its caller is recalled for 60 seconds, no longer
    clock.at(59.9)
    assert cache.recall(KEY) == SCOPE
    clock.at(60)
    assert cache.recall(KEY) is None
    assert len(cache) == 0


def test_zero_seconds_turns_the_cache_off() -> None:
    # given a cache configured with 0 seconds, listening
    cache = listening_cache(seconds=0)
    # then nothing can be remembered
    assert not cache.enabled
    assert cache.ticket() is None


def test_the_oldest_entry_goes_when_the_cache_is_full() -> None:
    # given a cache of two entries, full
    cache = listening_cache(max_entries=2)
    keys = [f"crm_0123456789ab_{letter * 43}" for letter in "CDE"]
    for key in keys[:2]:
        remembered(cache, key, SCOPE)
    # when a third caller is remembered
    remembered(cache, keys[2], SCOPE)
    # then the first one is gone and the others stay
    assert [cache.recall(key) for key in keys] == [None, SCOPE, SCOPE]
