"""Documents for the differential tests: the fields a plan covers, a way to write GraphQL
argument literals, and a generator of random (document, variables) pairs a plan takes."""

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# As plans/shapes.py lists them: every field a plan covers.
LEAD_FIELDS = [
    "__typename", "id", "name", "company", "email", "phone", "source", "businessDomain",
    "hasBusinessDomain", "stage", "lostReason", "messageCount", "version", "createdAt",
    "updatedAt", "daysSinceCreated",
]  # fmt: skip
ANALYSIS_FIELDS = [
    "__typename", "id", "score", "recommendation", "reason", "scorer", "promptVersion",
    "latencyMs", "tokensIn", "tokensOut", "createdAt",
]  # fmt: skip
SALE_FIELDS = [
    "__typename",
    "id",
    "stage",
    "amount",
    "currency",
    "version",
    "createdAt",
    "updatedAt",
]

EVERY_LEAD_FIELD = (
    " ".join(LEAD_FIELDS)
    + " latestAnalysis { "
    + " ".join(ANALYSIS_FIELDS)
    + " } sale { "
    + " ".join(SALE_FIELDS)
    + " }"
)
PAGE_INFO = "pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }"

STAGES = ["NEW", "CONTACTED", "QUALIFIED", "TRANSFERRED", "LOST"]
SOURCES = ["PARTNER", "REFERRAL", "WEBSITE", "COLD_OUTREACH", "TELEGRAM", "EVENT", "OTHER"]
ORDER_FIELDS = ["CREATED_AT", "UPDATED_AT", "SCORE", "MESSAGE_COUNT"]
DIRECTIONS = ["ASC", "DESC"]
SEARCHES = [
    "Lead 1", "lead 2", "100%", "%", "_", "\\", "under_", "  zoë  ", "ÜRBAN", "@example",
    "Off_Sale \\ Co", "50%", "company 4", "nobody at all",
]  # fmt: skip
DOMAINS = ["fintech", "FINTECH", "FinTech", "retail", "health", "", "nothing"]
MOMENTS = [
    "2024-01-01T00:30:00Z", "2024-01-01T01:00:00+00:00", "2024-01-01T03:00:00+02:00",
    "2024-01-01T01:00:00", "2023-12-31T23:00:00-01:30", "2024-01-01T02:00:00.5Z",
]  # fmt: skip


class Name(str):
    """An enum value: a bare name in a GraphQL literal, a string in JSON variables."""


def literal(value: Any) -> str:
    """`value` written as a GraphQL input literal."""
    if isinstance(value, Name):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {literal(item)}" for key, item in value.items()) + "}"
    raise TypeError(value)


@dataclass
class RandomCase:
    query: str
    variables: dict[str, Any] | None = None
    method: str = "POST"
    notes: list[str] = field(default_factory=list)


class RandomDocuments:
    """Random selections of the covered fields, with random aliases, duplicates (merged),
    fragments, filters, orders and page sizes; literal or variable arguments."""

    def __init__(self, seed: int, lead_ids: list[str]) -> None:
        self._rng = random.Random(seed)
        self._lead_ids = lead_ids
        self._aliases = 0

    def case(self) -> RandomCase:
        rng = self._rng
        self._aliases = 0
        method = "GET" if rng.random() < 0.15 else "POST"
        if rng.random() < 0.3:
            return self._lead_case(method)
        return self._leads_case(method)

    def _lead_case(self, method: str) -> RandomCase:
        rng = self._rng
        lead_id = rng.choice(self._lead_ids)
        body = self._lead_selection()
        if rng.random() < 0.5:
            return RandomCase(
                "query One($id: ID!) { lead(id: $id) { " + body + " } }", {"id": lead_id}, method
            )
        return RandomCase("{ lead(id: " + literal(lead_id) + ") { " + body + " } }", None, method)

    def _leads_case(self, method: str) -> RandomCase:
        rng = self._rng
        arguments: dict[str, Any] = {}
        if rng.random() < 0.8:
            arguments["first"] = rng.choice([0, 1, 2, 5, 7, 13, 20, 50, 100])
        if rng.random() < 0.6:
            arguments["filter"] = self._filter()
        if rng.random() < 0.7:
            arguments["orderBy"] = self._order()
        connection = self._connection_selection()
        if arguments and rng.random() < 0.5:
            types = {"first": "Int", "filter": "LeadFilter", "orderBy": "LeadOrder"}
            declared = ", ".join(f"${name}: {types[name]}" for name in arguments)
            passed = ", ".join(f"{name}: ${name}" for name in arguments)
            query = f"query Some({declared}) {{ leads({passed}) {{ {connection} }} }}"
            return RandomCase(query, arguments, method)
        passed = ", ".join(f"{name}: {literal(value)}" for name, value in arguments.items())
        call = f"leads({passed})" if passed else "leads"
        return RandomCase(f"{{ {call} {{ {connection} }} }}", None, method)

    def _filter(self) -> dict[str, Any]:
        rng = self._rng
        makers: dict[str, Callable[[], Any]] = {
            "stage": lambda: [Name(s) for s in rng.sample(STAGES, rng.randint(0, 3))],
            "source": lambda: [Name(s) for s in rng.sample(SOURCES, rng.randint(1, 3))],
            "businessDomain": lambda: rng.choice(DOMAINS),
            "hasBusinessDomain": lambda: rng.random() < 0.5,
            "minScore": lambda: rng.choice([0, 0.1, 0.333333333333333, 0.5, 0.9, 1]),
            "maxScore": lambda: rng.choice([0, 0.2, 0.5, 0.75, 1]),
            "createdAfter": lambda: rng.choice(MOMENTS),
            "createdBefore": lambda: rng.choice(MOMENTS),
            "search": lambda: rng.choice(SEARCHES),
        }
        chosen = rng.sample(sorted(makers), rng.randint(1, 3))
        return {name: makers[name]() for name in chosen}

    def _order(self) -> dict[str, Any]:
        rng = self._rng
        order: dict[str, Any] = {}
        if rng.random() < 0.9:
            order["field"] = Name(rng.choice(ORDER_FIELDS))
        if rng.random() < 0.8:
            order["direction"] = Name(rng.choice(DIRECTIONS))
        return order

    def _connection_selection(self) -> str:
        rng = self._rng
        parts = []
        if rng.random() < 0.9:
            edge = []
            if rng.random() < 0.6:
                edge.append(self._aliased("cursor"))
            if rng.random() < 0.2:
                edge.append("__typename")
            edge.append(self._aliased("node") + " { " + self._lead_selection() + " }")
            rng.shuffle(edge)
            parts.append("edges { " + " ".join(edge) + " }")
        if rng.random() < 0.5 or not parts:
            fields = rng.sample(
                ["__typename", "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"],
                rng.randint(1, 5),
            )
            parts.append(self._aliased("pageInfo") + " { " + " ".join(fields) + " }")
        if rng.random() < 0.2:
            parts.append("__typename")
        rng.shuffle(parts)
        return " ".join(parts)

    def _lead_selection(self) -> str:
        rng = self._rng
        fields = [self._aliased(name) for name in rng.sample(LEAD_FIELDS, rng.randint(1, 6))]
        if rng.random() < 0.5:
            fields.append(self._nested("latestAnalysis", ANALYSIS_FIELDS))
        if rng.random() < 0.5:
            fields.append(self._nested("sale", SALE_FIELDS))
        if rng.random() < 0.2:  # the same field again, merged with the first
            fields.append(rng.choice(fields))
        rng.shuffle(fields)
        if rng.random() < 0.25:
            cut = rng.randint(0, len(fields))
            condition = rng.choice(["... on Lead", "..."])
            inner = " ".join(fields[cut:]) or "id"
            fields = [*fields[:cut], f"{condition} {{ {inner} }}"]
        return " ".join(fields)

    def _nested(self, name: str, leaves: list[str]) -> str:
        chosen = self._rng.sample(leaves, self._rng.randint(1, 4))
        return name + " { " + " ".join(chosen) + " }"

    def _aliased(self, name: str) -> str:
        if self._rng.random() < 0.2:
            self._aliases += 1
            return f"a{self._aliases}: {name}"
        return name
