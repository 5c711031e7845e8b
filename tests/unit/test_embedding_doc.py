"""docs/embedding.md: every Python block runs, in order, and every test it defines passes."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "embedding.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def run_doc() -> dict[str, object]:
    """Execute every Python block of the guide in one namespace, as one script."""
    namespace: dict[str, object] = {"__name__": "embedding_doc"}
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 5, "the guide lost its examples"
    for number, block in enumerate(blocks, start=1):
        code = compile(block, f"{DOC.name}, Python block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - running our own documentation is the point
    return namespace


def test_every_python_block_of_the_guide_runs() -> None:
    namespace = run_doc()

    assert {"policy", "labels_for_job"} <= namespace.keys()


def test_every_test_the_guide_defines_passes() -> None:
    namespace = run_doc()
    tests = {name: value for name, value in namespace.items() if name.startswith("test_")}

    for test in tests.values():
        assert callable(test)
        test()

    assert len(tests) >= 3
