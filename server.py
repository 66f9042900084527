"""The ASGI app, and `python -m server`: set up the database, then serve.

`make run` calls `main()`: it starts the embedded PostgreSQL unless DATABASE_URL is set,
applies migrations, loads demo data into an empty embedded database, and serves GraphiQL.
"""

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from db import migrations
from db.database import Database, create_engine
from db.embedded import start_embedded_postgres
from resolvers.context import AppServices
from schema.root import schema
from services.ai.factory import build_scorer
from services.demo_data import load_demo_data_if_empty
from settings import Settings, SettingsError, load_settings
from web.documents import DocumentCache, Limits
from web.graphql_http import GraphQLEndpoint

log = logging.getLogger("crm")


def create_app(settings: Settings, database_url: str) -> Starlette:
    db = Database(create_engine(database_url, pool_size=settings.db_pool_size))
    services = AppServices(db=db, settings=settings, scorer=build_scorer(settings.ai))
    limits = Limits(
        max_tokens=settings.max_query_tokens,
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
    )
    endpoint = GraphQLEndpoint(
        schema=schema, services=services, documents=DocumentCache(schema._schema, limits)
    )

    async def healthz(_request: Request) -> JSONResponse:
        try:
            await db.ping()
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await services.scorer.aclose()
        await db.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", endpoint.handle, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app


async def prepare_database(database_url: str, settings: Settings) -> None:
    """Bring the schema to the newest migration. Demo leads go only into an empty
    embedded database, never into one DATABASE_URL names."""
    engine = create_engine(database_url, pool_size=1)
    try:
        await migrations.upgrade(engine)
        if settings.uses_embedded_database and settings.demo_data:
            loaded = await load_demo_data_if_empty(
                Database(engine), min_score=settings.transfer_min_score
            )
            if loaded:
                log.info("loaded %d demo leads", loaded)
    finally:
        await engine.dispose()


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as error:
        sys.exit(f"Configuration error: {error}")
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    if settings.database_url is None:
        log.info(
            "DATABASE_URL is not set: starting the embedded PostgreSQL in %s", settings.data_dir
        )
        database_url = start_embedded_postgres(settings.data_dir, "crm")
    else:
        database_url = settings.database_url
    asyncio.run(prepare_database(database_url, settings))
    print(f"GraphiQL: http://{settings.host}:{settings.port}/graphql", flush=True)
    uvicorn.run(
        create_app(settings, database_url),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
