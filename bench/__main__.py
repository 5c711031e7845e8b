"""``python -m bench [name ...]``: run the benchmarks, print a summary, write JSON results."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

import bench

RESULTS = Path(__file__).with_name("results.json")
PREFIX = "bench_"


def available() -> list[str]:
    """Return the names of every ``bench/bench_<name>.py`` module, sorted."""
    return sorted(
        info.name.removeprefix(PREFIX)
        for info in pkgutil.iter_modules(bench.__path__)
        if info.name.startswith(PREFIX)
    )


def machine() -> dict[str, object]:
    """Describe where the figures were measured."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python_implementation": platform.python_implementation(),
    }


def run_one(name: str) -> dict[str, Any]:
    """Run one benchmark and wrap its figures with when, where and how long."""
    module = importlib.import_module(f"bench.{PREFIX}{name}")
    started = time.perf_counter()
    entry: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": machine(),
    }
    try:
        entry["results"] = module.run()
    except Exception as error:  # one failing benchmark must not hide the others
        traceback.print_exc()
        entry["error"] = f"{type(error).__name__}: {error}"
    entry["duration_seconds"] = round(time.perf_counter() - started, 3)
    return entry


def show(value: object) -> str:
    """Format a figure for people: thousands separators, a sensible number of decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def print_summary(name: str, entry: dict[str, Any]) -> None:
    """Print one benchmark's figures, nested mappings indented."""
    print(f"\n== {name} ({entry['duration_seconds']} s)")
    if "error" in entry:
        print(f"   FAILED: {entry['error']}")
        return

    def lines(values: dict[str, object], indent: int) -> None:
        for key, value in values.items():
            if isinstance(value, dict):
                print(f"{' ' * indent}{key}:")
                lines(value, indent + 2)
            else:
                print(f"{' ' * indent}{key}: {show(value)}")

    lines(entry["results"], 3)


def _quiet_logs() -> None:
    # Adapters log at debug level; interleaved with the figures it hides them.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks (all by default); return 1 if any failed."""
    _quiet_logs()
    names = available()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help=f"one of: {', '.join(names)}")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file to update")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(names))
        return 0
    selected = [name.removeprefix(PREFIX) for name in args.names] or names
    unknown = sorted(set(selected) - set(names))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(names)}")

    results: dict[str, Any] = {}
    if args.output.exists():
        results = json.loads(args.output.read_text(encoding="utf-8"))
    failed = False
    for name in selected:
        print(f"running {name} ...", flush=True)
        entry = run_one(name)
        results[name] = entry
        failed = failed or "error" in entry
        print_summary(name, entry)
    args.output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
