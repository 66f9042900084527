"""What every resolver can reach: app-wide services and this request's scope and loaders."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeAlias

from strawberry.types import Info as StrawberryInfo

from db.database import Database
from realtime.live import LiveUpdates
from resolvers.loaders import Loaders
from services.caller_cache import CallerCache
from services.scope import Scope
from services.scorer_choice import ScorerSelection
from services.tokens import TokenVerifier
from settings import Settings


@dataclass(frozen=True)
class AppServices:
    """Built once at start-up and shared by all requests."""

    db: Database
    settings: Settings
    scorers: ScorerSelection
    tokens: TokenVerifier | None = None  # None unless JWT sign-in is configured
    live: LiveUpdates | None = None  # None: no subscriptions served (e.g. CLI commands)
    # Checked credentials, trusted only while `live`'s listener hears every change of access;
    # without one it never answers.
    callers: CallerCache = field(default_factory=lambda: CallerCache(seconds=0))

    @property
    def analysis_cache_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.ai.cache_ttl_seconds)

    @property
    def analysis_wait_for_other(self) -> timedelta:
        """A request waits this long for another request's analysis of the same lead."""
        return timedelta(seconds=self.settings.ai.longest_call_seconds + 5)


@dataclass
class Context:
    app: AppServices
    scope: Scope
    request_id: str
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.renew_loaders()

    def renew_loaders(self) -> None:
        """Forget everything loaded so far: after a write, later reads must see it."""
        self.loaders = Loaders(self.app.db, self.scope.tenant_id)

    def share_loaders(self, loaders: Loaders) -> None:
        """Read through loaders other subscribers of the same tenant use too: one event
        delivered to N subscribers then loads its lead once, not N times. Safe because
        every role of a tenant sees the same leads and sales."""
        self.loaders = loaders


Info: TypeAlias = StrawberryInfo[Context, None]
