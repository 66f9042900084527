"""The ASGI app, and `python -m server`: set up the database, then serve.

`make run` calls `main()`: it starts the embedded PostgreSQL unless DATABASE_URL is set,
applies migrations, loads demo data into an empty embedded database, and serves GraphiQL
(on the embedded database it also runs the worker; see CRM_RUN_WORKER). `python -m server
worker` runs the worker alone: webhook deliveries and the journal's retention.
"""

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from cli import imports as import_cli
from cli import scoring as scoring_cli
from db import migrations
from db.database import app_login_url, create_engine, open_database
from db.embedded import start_embedded_postgres
from db.models import DEFAULT_TENANT_ID
from db.read_pool import ReadPool
from domain.errors import DomainError
from plans.runner import ReadPlans
from realtime.listener import listener_dsn
from realtime.live import LiveUpdates
from resolvers.context import AppServices
from schema.root import schema
from services.caller_cache import CallerCache
from services.demo_data import load_demo_data_if_empty
from services.scorer_choice import ScorerSelection
from services.tenants import DEMO_TENANT, tenant_named
from services.tokens import TokenVerifier
from services.users import admin_key, bootstrap_admin_key
from settings import Settings, SettingsError, load_settings
from web.documents import DocumentCache, Limits
from web.graceful_server import GracefulServer
from web.graphql_http import GraphQLEndpoint
from web.graphql_ws import GraphQLWebSocketEndpoint
from web.rate_limit import RateLimiter
from web.routing import GRAPHQL_PATH, GraphQLFirst
from worker.runner import InProcessWorker, Worker, libpq_url

log = logging.getLogger("crm")


def create_app(settings: Settings, database_url: str) -> Starlette:
    """The app; `database_url` is the owner's, and requests run on the app's own login."""
    app_login = settings.app_database_url or app_login_url(database_url)
    db = open_database(
        app_login,
        pool_size=settings.db_pool_size,
        app_role=True,
        statement_timeout_ms=settings.statement_timeout_ms,
    )
    reads = ReadPool(
        libpq_url(app_login),
        size=settings.db_pool_size,
        statement_timeout_ms=settings.statement_timeout_ms,
    )
    callers = CallerCache(seconds=settings.auth_cache_seconds)
    live = LiveUpdates(
        db=db,
        settings=settings.realtime,
        listener_dsn=listener_dsn(app_login),
        access=callers,  # the listener tells it of every change of access
    )
    services = AppServices(
        db=db,
        settings=settings,
        scorers=ScorerSelection(settings.ai, db),
        tokens=TokenVerifier(settings.jwt) if settings.jwt.enabled else None,
        live=live,
        callers=callers,
    )
    limits = Limits(
        max_tokens=settings.max_query_tokens,
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_cost=settings.max_query_cost,
        introspection=settings.introspection,
    )
    documents = DocumentCache(schema._schema, limits)
    endpoint = GraphQLEndpoint(
        schema=schema,
        services=services,
        documents=documents,
        limiter=_rate_limiter(settings),
        plans=ReadPlans(schema, reads) if settings.read_plans else None,
    )
    subscriptions = GraphQLWebSocketEndpoint(schema=schema, services=services, documents=documents)

    async def healthz(_request: Request) -> JSONResponse:
        try:
            await db.ping()
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    worker = InProcessWorker(settings, database_url)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        worker.start()
        await reads.start()
        await live.start()
        yield
        await worker.stop()
        await subscriptions.shutdown()  # done already when served by GracefulServer
        await live.stop()
        await services.scorers.aclose()
        await reads.close()
        await db.dispose()

    app = Starlette(
        routes=[
            Route(GRAPHQL_PATH, endpoint, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", subscriptions.handle),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
        middleware=[*_cors(settings), Middleware(GraphQLFirst, endpoint=endpoint)],
    )
    app.state.services = services
    app.state.subscriptions = subscriptions
    return app


def _rate_limiter(settings: Settings) -> RateLimiter | None:
    if settings.rate_limit_per_minute == 0:
        return None
    return RateLimiter(per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst)


def _cors(settings: Settings) -> list[Middleware]:
    """Browsers on the listed origins may call the API; no list, no CORS headers at all.
    Credentials travel in `Authorization`, never in cookies, so none are allowed."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    ]


async def prepare_database(database_url: str, settings: Settings) -> str | None:
    """Bring the schema to the newest migration. On the embedded default only: a "Demo"
    tenant with demo leads, and its first admin, whose key is returned to print once.
    A database that DATABASE_URL names gets neither."""
    db = open_database(database_url, pool_size=2)
    try:
        await migrations.upgrade(db.engine)
        if not settings.uses_embedded_database:
            return None
        demo = await tenant_named(db=db, name=DEMO_TENANT)
        if settings.demo_data:
            loaded = await load_demo_data_if_empty(
                db, tenant_id=demo, min_score=settings.transfer_min_score
            )
            if loaded:
                log.info("loaded %d demo leads", loaded)
        return await bootstrap_admin_key(db=db, tenant_id=demo)
    finally:
        await db.dispose()


async def create_admin(database_url: str, email: str, tenant: str | None) -> str:
    """`python -m server create-admin EMAIL [--tenant NAME]`: migrate, then a new admin
    key, in the named tenant (created if missing) or the default one."""
    db = open_database(database_url, pool_size=2)
    try:
        await migrations.upgrade(db.engine)
        tenant_id = DEFAULT_TENANT_ID if tenant is None else await tenant_named(db=db, name=tenant)
        return await admin_key(db=db, tenant_id=tenant_id, email=email)
    finally:
        await db.dispose()


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="set up the database and serve (the default)")
    commands.add_parser(
        "worker", help="migrate, then deliver webhooks and prune the journal until stopped"
    )
    create = commands.add_parser("create-admin", help="print a new API key for an admin")
    create.add_argument("email", help="the admin's e-mail; the admin is created if missing")
    create.add_argument(
        "--tenant", help="the tenant (company) by name, created if missing; default: Default"
    )
    scoring_cli.add_parsers(commands)  # `train-scorer`, `scorer-report`
    import_cli.add_parser(commands)  # `import-leads FILE --tenant NAME ...`
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        sys.exit(f"Configuration error: {error}")
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    logging.getLogger("procrastinate").setLevel(logging.WARNING)  # a line per job otherwise
    database_url = _database_url(settings)
    if arguments.command == "create-admin":
        try:
            key = asyncio.run(create_admin(database_url, arguments.email, arguments.tenant))
            print(key, flush=True)
        except DomainError as refusal:
            sys.exit(f"create-admin: {refusal}")
        return
    if arguments.command == "worker":
        work(settings, database_url)
        return
    if arguments.command == import_cli.COMMAND:
        sys.exit(import_cli.run(arguments, settings, database_url))
    if arguments.command in scoring_cli.COMMANDS:
        sys.exit(scoring_cli.run(arguments, settings, database_url))
    serve(settings, database_url)


def _database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return settings.database_url
    log.info("DATABASE_URL is not set: starting the embedded PostgreSQL in %s", settings.data_dir)
    return start_embedded_postgres(settings.data_dir, "crm")


def serve(settings: Settings, database_url: str) -> None:
    dev_key = asyncio.run(prepare_database(database_url, settings))
    if dev_key is not None:
        print(_DEV_KEY_BANNER.format(key=dev_key), flush=True)
    print(f"GraphiQL: http://{settings.host}:{settings.port}/graphql", flush=True)
    app = create_app(settings, database_url)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        proxy_headers=False,
    )
    # Subscriptions end with `complete` and close 1001 before uvicorn closes the rest.
    server = GracefulServer(config, before_shutdown=app.state.subscriptions.shutdown)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled
        server.run()
    if not server.started:
        sys.exit(3)  # uvicorn's own exit status when it cannot start


def work(settings: Settings, database_url: str) -> None:
    """`python -m server worker`: migrate, then run jobs until SIGINT or SIGTERM."""

    async def migrate_then_work() -> None:
        engine = create_engine(database_url, pool_size=1)
        try:
            await migrations.upgrade(engine)
        finally:
            await engine.dispose()
        print("Worker: delivering webhooks and pruning the event journal.", flush=True)
        await Worker(settings, database_url).run(install_signal_handlers=True)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C before the worker took over signals
        asyncio.run(migrate_then_work())


_DEV_KEY_BANNER = """
Development admin API key (shown this once; keep it):

    {key}

In GraphiQL, open Headers and paste:  {{"Authorization": "Bearer {key}"}}
"""


if __name__ == "__main__":
    main()
