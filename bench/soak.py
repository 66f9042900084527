"""Memory under steady load: list and point reads against our server for minutes, its
resident memory sampled every SAMPLE_SECONDS. Flat means no growth per request: the
least-squares slope over the run is near zero."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from bench.load import Load, Measured, Target, run_reads

SAMPLE_SECONDS = 10.0
_MB = 1024 * 1024


@dataclass(frozen=True)
class Soak:
    minutes: float
    samples: list[tuple[float, int]]  # (seconds since the start, RSS in bytes)
    measured: Measured

    def slope_mb_per_minute(self) -> float:
        """Least-squares growth of RSS over the run."""
        if len(self.samples) < 2:
            return 0.0
        xs = [seconds / 60 for seconds, _ in self.samples]
        ys = [rss / _MB for _, rss in self.samples]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        if not spread:
            return 0.0
        return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def soak(
    target: Target,
    rss_bytes: Callable[[], int],
    requests: list[dict[str, Any]],
    load: Load,
    pg_cpu_seconds: Callable[[], float] | None,
) -> Soak:
    """One k6 run of `load.seconds` cycling `requests`, sampling `rss_bytes` meanwhile."""
    started = time.monotonic()
    samples = [(0.0, rss_bytes())]
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(run_reads, target, requests, load, pg_cpu_seconds)
        while not wait([running], timeout=SAMPLE_SECONDS).done:
            samples.append((time.monotonic() - started, rss_bytes()))
        measured = running.result()
    samples.append((time.monotonic() - started, rss_bytes()))
    return Soak(minutes=load.seconds / 60, samples=samples, measured=measured)


def render_soak(result: Soak) -> str:
    rss = [sample for _, sample in result.samples]
    run = result.measured
    return "\n".join(
        [
            f"Soak: {result.minutes:g} min of list and point reads against our server, "
            f"{run.requests:,} requests ({run.per_second:,.0f}/s, {run.failed} failed)",
            f"  RSS first {rss[0] / _MB:.1f} MB, last {rss[-1] / _MB:.1f} MB, "
            f"max {max(rss) / _MB:.1f} MB, {len(rss)} samples",
            f"  slope {result.slope_mb_per_minute():+.3f} MB/min",
        ]
    )
