"""The import limits are read from the environment and checked like every setting."""

import pytest

from settings import SettingsError, load_settings


def test_the_import_limits_are_read_and_checked() -> None:
    # given no import settings, then the defaults
    defaults = load_settings({}).imports
    assert (defaults.max_bytes, defaults.max_rows) == (10_000_000, 50_000)
    # given both, then both are taken
    given = load_settings({"CRM_IMPORT_MAX_BYTES": "2048", "CRM_IMPORT_MAX_ROWS": "10"}).imports
    assert (given.max_bytes, given.max_rows) == (2048, 10)
    # given a value out of range, then the variable is named
    with pytest.raises(SettingsError, match="CRM_IMPORT_MAX_ROWS"):
        load_settings({"CRM_IMPORT_MAX_ROWS": "0"})
