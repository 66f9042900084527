"""The committed schema.graphql is the schema the code builds."""

from schema.root import schema
from settings import PROJECT_ROOT

SCHEMA_FILE = PROJECT_ROOT / "schema.graphql"


def test_the_committed_sdl_matches_the_code() -> None:
    # given the SDL in the repository
    committed = SCHEMA_FILE.read_text()
    # when the schema is printed from the code
    printed = schema.as_str() + "\n"
    # then they are the same text
    assert committed == printed, "schema.graphql is stale: run `make schema` and commit it"
