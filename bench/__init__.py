"""Throughput benchmarks, run with ``python -m bench [name ...]`` (or ``nox -s bench``).

The convention is deliberately small:

- a benchmark is a module ``bench/bench_<name>.py`` with a plain synchronous function
  ``run() -> dict[str, object]`` returning JSON-serialisable figures (asynchronous benchmarks
  call ``asyncio.run`` inside ``run``);
- ``python -m bench`` discovers every such module and runs them all, one after the other in one
  process; ``python -m bench policy identity`` runs only those (``bench_policy`` works too);
- the runner prints a summary and merges the results into ``bench/results.json``, keyed by
  benchmark name, each entry with its timestamp, Python version and machine description;
  ``--output PATH`` writes elsewhere and ``--list`` only lists the benchmarks.

Benchmarks measure on one core, report rates (``*_per_second``) and latencies in microseconds
(``*_us``), and say how they measure in their docstring. :func:`throughput` and
:func:`latencies_us` are here for the common synchronous case.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

__all__ = ["latencies_us", "throughput"]


def throughput(call: Callable[[], object], *, seconds: float = 0.5, rounds: int = 5) -> float:
    """Return the median rate (calls per second) of ``call`` over ``rounds`` timed rounds.

    Each round calls ``call`` in batches until ``seconds`` have passed, so the clock is read
    rarely and its cost stays out of the figure.
    """
    rates = []
    for _ in range(rounds):
        calls = 0
        batch = 100
        started = time.perf_counter()
        deadline = started + seconds
        while (now := time.perf_counter()) < deadline:
            for _ in range(batch):
                call()
            calls += batch
        rates.append(calls / (now - started))
    return statistics.median(rates)


def latencies_us(call: Callable[[], object], *, samples: int = 20_000) -> dict[str, float]:
    """Time ``call`` once per sample and return its p50, p99 and max in microseconds."""
    timings = []
    clock = time.perf_counter_ns
    for _ in range(samples):
        started = clock()
        call()
        timings.append(clock() - started)
    timings.sort()
    return {
        "p50_us": timings[len(timings) // 2] / 1000,
        "p99_us": timings[min(len(timings) - 1, len(timings) * 99 // 100)] / 1000,
        "max_us": timings[-1] / 1000,
    }
