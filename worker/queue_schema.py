"""procrastinate's tables and functions, kept in a PostgreSQL schema of their own.

The job queue lives in the schema `procrastinate`, apart from the business tables in
`public`: the models (and alembic's comparison with them) never see it, and its names
never meet ours. Migration 0008 creates it from the SQL that the installed procrastinate
ships (`procrastinate/sql/schema.sql`) and records that version in the schema's comment.

procrastinate's functions and triggers name its objects unqualified, so a session that
changes its tables must put the schema on its search path: the worker's connections do
(`-c search_path=procrastinate`), and so does the app's defer function (migration 0009);
by hand, `SET search_path TO procrastinate` first (or PGOPTIONS for procrastinate's CLI).

Upgrading procrastinate (the pin in pyproject.toml is exact, since its schema changes
with its releases):

1. bump the pin and reinstall;
2. add a migration whose `upgrade()` calls `upgrade_queue(op.get_bind())`: it applies
   procrastinate's own migration files (`procrastinate/sql/migrations/*.sql`) newer than
   the recorded version, oldest first, and records the new version. A database created
   after the bump already has the new schema from 0008, and nothing is applied twice.

Stop the workers before the new code's migrations run (the service migrates at start):
procrastinate's "pre" and "post" files are then safe to apply together.
"""

import re
from importlib import metadata, resources
from pathlib import Path

from sqlalchemy import Connection, text

QUEUE_SCHEMA = "procrastinate"
PINNED_VERSION = "3.10.0"
# Every session that runs procrastinate's SQL must resolve its names here.
SEARCH_PATH = f"{QUEUE_SCHEMA}, pg_catalog, pg_temp"

_MIGRATION_FILE = re.compile(r"^(\d+)\.(\d+)\.(\d+)_(\d+)_.*\.sql$")
_RECORDED = re.compile(r"^procrastinate (\d+\.\d+\.\d+)$")


class QueueSchemaMismatch(RuntimeError):
    """The database's job queue was made for another procrastinate than the installed one."""


def installed_version() -> str:
    return metadata.version("procrastinate")


def create_queue(conn: Connection) -> None:
    """Create the schema and procrastinate's objects in it (migration 0008)."""
    conn.exec_driver_sql(f"CREATE SCHEMA {QUEUE_SCHEMA}")
    script = (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")
    _run_in_queue_schema(conn, [script])
    _record(conn, installed_version())


def upgrade_queue(conn: Connection) -> list[str]:
    """Apply procrastinate's migration files newer than the recorded version (see above);
    the names of the files applied."""
    recorded, target = _version(recorded_version(conn)), _version(installed_version())
    files = [path for version, _order, path in _migration_files() if recorded < version <= target]
    _run_in_queue_schema(conn, [path.read_text(encoding="utf-8") for path in files])
    _record(conn, installed_version())
    return [path.name for path in files]


def drop_queue(conn: Connection) -> None:
    conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {QUEUE_SCHEMA} CASCADE")


def recorded_version(conn: Connection) -> str:
    """The procrastinate version the database's queue schema was made or upgraded for."""
    comment = conn.execute(
        text("SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = :n"),
        {"n": QUEUE_SCHEMA},
    ).scalar_one_or_none()
    found = _RECORDED.match(comment or "")
    if found is None:
        raise QueueSchemaMismatch(f"the database has no {QUEUE_SCHEMA} schema of ours")
    return found.group(1)


def check_queue(conn: Connection) -> None:
    """Refuse to run jobs on a queue schema of another procrastinate version."""
    recorded, installed = recorded_version(conn), installed_version()
    if recorded != installed:
        raise QueueSchemaMismatch(
            f"the job queue's schema is for procrastinate {recorded}, but {installed} is "
            "installed: add a migration that calls worker.queue_schema.upgrade_queue"
        )


def _record(conn: Connection, version: str) -> None:
    # A literal of our own making: COMMENT takes no bind parameters.
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise ValueError(f"unexpected procrastinate version {version!r}")
    conn.exec_driver_sql(f"COMMENT ON SCHEMA {QUEUE_SCHEMA} IS 'procrastinate {version}'")


def _run_in_queue_schema(conn: Connection, scripts: list[str]) -> None:
    """Run each statement with the queue schema first on the search path, then put the
    caller's search path back (migrations share one transaction)."""
    previous = conn.exec_driver_sql("SELECT current_setting('search_path')").scalar_one()
    conn.exec_driver_sql(f"SET LOCAL search_path TO {QUEUE_SCHEMA}, public")
    for script in scripts:
        for statement in sql_statements(script):
            conn.exec_driver_sql(statement)
    conn.execute(text("SELECT set_config('search_path', :path, true)"), {"path": previous})


def _migration_files() -> list[tuple[tuple[int, int, int], int, Path]]:
    folder = Path(str(resources.files("procrastinate.sql") / "migrations"))
    found = []
    for path in folder.glob("*.sql"):
        match = _MIGRATION_FILE.match(path.name)
        if match:
            major, minor, patch, order = (int(part) for part in match.groups())
            found.append(((major, minor, patch), order, path))
    return sorted(found)


def _version(text_version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in text_version.split(".")[:3])
    return major, minor, patch


def sql_statements(script: str) -> list[str]:
    """A SQL script cut into its statements at the semicolons that end them: not those in
    quotes, dollar-quoted bodies or comments. (asyncpg runs one statement at a time.)"""
    statements: list[str] = []
    start = index = 0
    while index < len(script):
        char = script[index]
        if char in "'\"":
            index = _after_quoted(script, index, char)
        elif script.startswith("--", index):
            index = _after(script, "\n", index + 2)
        elif script.startswith("/*", index):
            index = _after(script, "*/", index + 2)
        elif char == "$" and (tag := re.match(r"\$[A-Za-z_]*\$", script[index:])):
            index = _after(script, tag.group(0), index + len(tag.group(0)))
        elif char == ";":
            statements.append(script[start:index])
            index += 1
            start = index
        else:
            index += 1
    statements.append(script[start:])
    return [statement.strip() for statement in statements if _has_code(statement)]


def _after_quoted(script: str, index: int, quote: str) -> int:
    """The index after a quoted string starting at `index` (a doubled quote escapes)."""
    index += 1
    while index < len(script):
        if script[index] == quote:
            if script.startswith(quote * 2, index):
                index += 2
                continue
            return index + 1
        index += 1
    return index


def _after(script: str, end: str, index: int) -> int:
    found = script.find(end, index)
    return len(script) if found == -1 else found + len(end)


def _has_code(statement: str) -> bool:
    without_comments = re.sub(r"--[^\n]*", "", statement)
    return bool(without_comments.strip())
