"""What a database failure was, whichever layer raised it."""

_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by statement_timeout


def timed_out(error: BaseException) -> bool:
    """PostgreSQL cancelled a statement (the driver's error, or SQLAlchemy's around it)."""
    return _QUERY_CANCELED in (
        getattr(error, "sqlstate", None),
        getattr(getattr(error, "orig", None), "sqlstate", None),
    )
