"""Policy benchmark: label decisions per second on one core (target: 50,000/s).

The workload of the non-functional target: 10 requested labels (3 system labels, the required
label, 6 optional ones) against a policy of 20 patterns.

``warm``: the same request again and again, as when a team's CI asks for the same runner all day;
recent label verdicts are remembered, so this is the figure a steady service sees.
``cold``: every request carries labels never seen before (120,000 distinct labels, more than the
engine remembers), so each decision runs the RE2 set on each label.
``compile_ms``: building (validating and compiling) a 20-pattern policy never seen before.

Run it with ``python -m bench policy`` (or ``python -m bench.bench_policy`` for raw JSON).
"""

from __future__ import annotations

import itertools
import json
import time

from bench import latencies_us, throughput
from gharts_core.policy import LabelPolicy, evaluate_labels

TARGET = 50_000
PATTERNS = (
    r"gpu-(a100|h100|l4|t4)",
    r"size-(small|medium|large|xlarge)",
    r"pool-[a-z0-9]+",
    r"os-\d{1,3}",
    r"zone-[a-z]{2}-[a-z]+-\d",
    r"cache-(warm|cold)",
    r"arch-(amd64|arm64)",
    r"image-[a-z0-9._-]+",
    r"tier-[0-3]",
    r"project-[a-z][a-z0-9-]{1,30}",
    r"env-(dev|staging|prod)",
    r"node\.[a-z0-9]+",
    r"ci:[a-z]+",
    r"repo/[a-z0-9_.-]+",
    r"disk-\d{2,4}g",
    r"mem-\d{1,3}g",
    r"cpu-\d{1,2}",
    r"feature-[a-z]+",
    r"owner-[a-z]+",
    r"k8s-[a-z0-9-]+",
)
LABELS = (
    "self-hosted",
    "Linux",
    "X64",
    "team-payments",
    "GPU-A100",
    "size-large",
    "pool-blue",
    "os-22",
    "zone-eu-west-1",
    "project-ledger",
)
COLD_REQUESTS = 20_000


def _letters(number: int) -> str:
    """Spell a number in lower-case letters (for patterns like ``feature-[a-z]+``)."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word += chr(ord("a") + digit)
        if not number:
            return word


def _cold_requests() -> list[list[str]]:
    """Requests whose six optional labels are all distinct from every other request's."""
    return [
        [
            *LABELS[:4],
            f"pool-p{i}",
            f"image-i{i}",
            f"project-x{i}",
            f"repo/r{i}",
            f"k8s-c{i}",
            f"feature-{_letters(i)}",
        ]
        for i in range(COLD_REQUESTS)
    ]


def _compile_ms(rounds: int = 50) -> float:
    started = time.perf_counter()
    for i in range(rounds):
        LabelPolicy(required_labels=["team-payments"], optional_label_patterns=(*PATTERNS, f"u{i}"))
    return (time.perf_counter() - started) / rounds * 1000


def run() -> dict[str, object]:
    """Measure warm and cold decision rates, single-decision latencies and policy compilation."""
    policy = LabelPolicy(required_labels=["team-payments"], optional_label_patterns=PATTERNS)
    decision = evaluate_labels(policy, LABELS)
    assert decision.allowed
    assert len(decision.labels) == 7

    warm_rate = throughput(lambda: evaluate_labels(policy, LABELS))
    warm_latency = latencies_us(lambda: evaluate_labels(policy, LABELS))

    cold = _cold_requests()
    assert all(evaluate_labels(policy, labels).allowed for labels in cold[:100])
    requests = itertools.cycle(cold)
    cold_rate = throughput(lambda: evaluate_labels(policy, next(requests)))
    cold_latency = latencies_us(lambda: evaluate_labels(policy, next(requests)))

    return {
        "labels_per_decision": len(LABELS),
        "patterns": len(PATTERNS),
        "target_decisions_per_second": TARGET,
        "decisions_per_second": round(warm_rate),
        "p50_us": warm_latency["p50_us"],
        "p99_us": warm_latency["p99_us"],
        "cold_decisions_per_second": round(cold_rate),
        "cold_p50_us": cold_latency["p50_us"],
        "cold_p99_us": cold_latency["p99_us"],
        "compile_ms": round(_compile_ms(), 3),
        "meets_target": warm_rate >= TARGET,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
