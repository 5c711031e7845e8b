"""The simulator's state file: a restarted simulator keeps its runners and never reuses an id."""

from __future__ import annotations

from pathlib import Path

import pytest

from gharts_adapters.github.simulator import GitHubSimulator
from gharts_adapters.github.simulator.persistence import keep_in_file
from gharts_adapters.github.simulator.wiring import app_key_pair

JIT_BODY = {"name": "", "runner_group_id": 1, "labels": ["self-hosted", "gpu"]}


def simulator() -> GitHubSimulator:
    return GitHubSimulator(app_id=1001, installation_id=2002, app_public_key_pem=app_key_pair()[1])


def jit(sim: GitHubSimulator, name: str) -> int:
    result = sim.generate_jitconfig("org:acme", {**JIT_BODY, "name": name})
    assert 201 == result.status
    return int(result.body["runner"]["id"])


def test_a_restarted_simulator_keeps_every_runner_and_change(tmp_path: Path) -> None:
    path = tmp_path / "github.json"
    first = simulator()
    keep_in_file(first, path)
    kept, gone = jit(first, "kept"), jit(first, "gone")
    first.set_busy(kept)
    first.relabel(kept, ["gpu", "extra"])
    assert 204 == first.delete_runner("org:acme", gone).status
    first.register("other-scope", ["x"], scope="repo:acme/app")

    second = simulator()
    keep_in_file(second, path)

    assert first.runners() == second.runners()


def test_ids_are_never_handed_out_twice_across_restarts(tmp_path: Path) -> None:
    # Issue 12, finding 1/2: the dev simulator started empty and numbered from 1 again.
    path = tmp_path / "github.json"
    first = simulator()
    keep_in_file(first, path)
    old = jit(first, "other-old")
    first.vanish(old)

    second = simulator()
    keep_in_file(second, path)

    assert jit(second, "demo-new") > old


def test_a_file_that_is_not_simulator_state_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "github.json"
    path.write_text('{"runners": "nope"}')

    with pytest.raises(ValueError, match=r"github\.json"):
        keep_in_file(simulator(), path)
