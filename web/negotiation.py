"""Which media type a GraphQL response is sent as, chosen from the request's `Accept`.

`application/graphql-response+json` lets status codes tell request errors apart (400
without `data`); it is chosen only when a client names it, since only clients that know
it can read it. Wildcards and a missing header get the legacy `application/json`. A
client that ranks text/html first is a browser and gets GraphiQL.
"""

from functools import lru_cache

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


@lru_cache(maxsize=256)
def response_media_type(accept: str | None) -> str | None:
    """The media type to answer in, or None when the client accepts neither (406).

    Cached: clients send the same few Accept headers again and again.
    """
    graphql_response, json, _html = _qualities(accept)
    if graphql_response > 0 and graphql_response >= json:
        return GRAPHQL_RESPONSE
    return JSON if json > 0 else None


@lru_cache(maxsize=256)
def prefers_html(accept: str | None) -> bool:
    """A browser (it ranks text/html above JSON): GraphiQL answers, even with ?query=,
    so the links GraphiQL itself writes into the address bar open GraphiQL again."""
    graphql_response, json, html = _qualities(accept)
    return html > max(graphql_response, json)


def _qualities(accept: str | None) -> tuple[float, float, float]:
    """How much the client wants (graphql-response+json, json, html), each 0..1."""
    if accept is None or not accept.strip():
        return 0.0, 1.0, 0.0
    ranges = _media_ranges(accept)
    anything = ranges.get("*/*", 0.0)
    return (
        ranges.get(GRAPHQL_RESPONSE, 0.0),
        ranges.get(JSON, ranges.get("application/*", anything)),
        ranges.get("text/html", ranges.get("text/*", 0.0)),
    )


def _media_ranges(accept: str) -> dict[str, float]:
    """Media range -> quality (the highest, when a range repeats)."""
    ranges: dict[str, float] = {}
    for part in accept.lower().split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        if media_range:
            ranges[media_range] = max(ranges.get(media_range, 0.0), _quality(parameters))
    return ranges


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0
