"""Before any timing: every contender must give the same data for every request, or the
ratios would compare different work.

Compared after JSON decoding. Floats need only agree to 1e-9 of their size: PostgreSQL
adds up a float column in whatever order its (parallel) scan reads the rows, so the last
bits of a sum such as the pipeline's average score differ between two runs of one query.
"""

import math
from typing import Any

import httpx

from bench.operations import ReadOperation


class Disagreement(RuntimeError):
    """Our server and the floor answered one request differently."""


def same_data(ours: Any, floor: Any) -> bool:
    """Equal JSON values, floats within a relative 1e-9."""
    if isinstance(ours, float) or isinstance(floor, float):
        numbers = (int, float)
        both = isinstance(ours, numbers) and isinstance(floor, numbers)
        return both and math.isclose(ours, floor, rel_tol=1e-9)
    if isinstance(ours, dict) and isinstance(floor, dict):
        return ours.keys() == floor.keys() and all(same_data(ours[k], floor[k]) for k in ours)
    if isinstance(ours, list) and isinstance(floor, list):
        return len(ours) == len(floor) and all(map(same_data, ours, floor))
    return bool(ours == floor and type(ours) is type(floor))


def check_agreement(operation: ReadOperation, ours: httpx.Client, floor: httpx.Client) -> None:
    """Every request of the operation, once to each; Disagreement at the first difference.
    `ours` carries the API key; both have their contender's base URL."""
    for request in operation.requests:
        graphql = ours.post(
            "/graphql", json={"query": request.query, "variables": request.variables}
        )
        raw = floor.get(request.floor_path)
        answers = (graphql.json(), raw.json())
        if graphql.status_code != 200 or raw.status_code != 200 or not same_data(*answers):
            raise Disagreement(
                f"{operation.name}: our server and the floor disagree on {request.floor_path}"
                f"\n  ours:  {str(answers[0])[:500]}\n  floor: {str(answers[1])[:500]}"
            )
