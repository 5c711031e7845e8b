"""Fail when one package's branch coverage falls below a floor.

coverage.py's ``fail_under`` applies to the whole report; the architecture asks for a floor on
``gharts_core`` alone, so this reads the JSON report and sums that package's files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def package_percent(report: dict[str, object], package: str) -> float:
    """Return the combined line+branch coverage of every file under ``src/<package>/``."""
    files = report["files"]
    if not isinstance(files, dict):
        raise TypeError("not a coverage.py JSON report")
    covered = total = 0
    marker = f"{package}/"
    for name, data in files.items():
        if marker not in name.replace("\\", "/"):
            continue
        summary = data["summary"]
        covered += summary["covered_lines"] + summary.get("covered_branches", 0)
        total += summary["num_statements"] + summary.get("num_branches", 0)
    return 100.0 if total == 0 else 100.0 * covered / total


def main(argv: list[str]) -> int:
    """Entry point: ``python -m tools.coverage_gate REPORT PACKAGE FLOOR``."""
    report_path, package, floor = argv[0], argv[1], float(argv[2])
    percent = package_percent(json.loads(Path(report_path).read_text()), package)
    print(f"{package}: {percent:.2f}% branch coverage (floor {floor:.0f}%)")
    return 0 if percent >= floor else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
