"""The distribution: a plain install of the built wheel is the policy engine alone.

The ``packaging`` tests build the wheel from this checkout, install it without extras into a fresh
virtual environment and use it as an embedding service would (about half a minute with ``uv``,
longer with ``venv`` and pip; packages come from PyPI, nothing else is reached). The other tests
check the ``gharts`` command's answer to a missing ``server`` extra in this process's interpreter.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import attrs
import pytest

from gharts_http.cli.main import SERVER_IMPORTS
from tests.unit import test_embedding_doc
from tests.unit.test_embedding_doc import BLOCK, DOC

REPO = Path(__file__).resolve().parents[2]
CORE_DISTRIBUTIONS = {"gharts", "attrs", "google-re2", "structlog"}
VENV_OWN = {"pip", "setuptools", "wheel"}
NO_SERVER = (
    "error: SERVER_NOT_INSTALLED: the gharts command needs the server extra: "
    "pip install 'gharts[server]'"
)
COMMANDS = [
    ["--help"],
    ["--version"],
    ["dev"],
    ["dev", "token", "--client", "demo-ci"],
    ["serve"],
    ["--config", "gharts.toml", "db", "upgrade"],
    ["admin", "teams", "list"],
]

DISTRIBUTIONS = """
import importlib.metadata, json, re
names = {d.metadata["Name"] for d in importlib.metadata.distributions()}
names = {re.sub(r"[-_.]+", "-", name).lower() for name in names}
print(json.dumps(sorted(names)))
"""
# Imports every module of gharts_core; prints those that fail and the module each one missed.
CORE_MODULES = """
import importlib, json, pkgutil, gharts_core
missed = {}
for module in pkgutil.walk_packages(gharts_core.__path__, "gharts_core."):
    try:
        importlib.import_module(module.name)
    except ModuleNotFoundError as error:
        missed[module.name] = error.name
print(json.dumps(missed))
"""
RUN_BLOCKS = """
import json, sys
namespace = {"__name__": "embedding_doc"}
for number, block in json.loads(open(sys.argv[1], encoding="utf-8").read()):
    exec(compile(block, f"docs/embedding.md, Python block {number}", "exec"), namespace)
"""
RUN_GUIDE_TESTS = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("test_embedding_doc", sys.argv[1])
doc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(doc)
doc.test_every_python_block_of_the_guide_runs()
doc.test_every_test_the_guide_defines_passes()
"""
EMBEDDING_SCRIPT = '''"""A service that embeds the policy engine, type-checked against the wheel."""

from gharts_core.errors import LabelPolicyViolation
from gharts_core.policy import (
    LabelDecision,
    LabelPolicy,
    Violation,
    ViolationReason,
    evaluate_labels,
)


def refusals(policy: LabelPolicy, labels: list[str]) -> list[tuple[str, ViolationReason]]:
    """Return each refused label with its reason."""
    decision: LabelDecision = evaluate_labels(policy, labels)
    violations: tuple[Violation, ...] = decision.violations
    return [(violation.label, violation.reason) for violation in violations]


POLICY = LabelPolicy(required_labels=["team-a"], optional_label_patterns=[r"gpu-.*"])
final: tuple[str, ...] = evaluate_labels(POLICY, ["GPU-A100"]).labels
assert final == ("gpu-a100", "team-a")
assert refusals(POLICY, ["gpu-a100", "cpu"]) == [("cpu", ViolationReason.NOT_ALLOWED)]
try:
    evaluate_labels(POLICY, ["cpu"]).raise_if_refused()
except LabelPolicyViolation as error:
    assert [violation.label for violation in error.violations] == ["cpu"]
else:
    raise AssertionError("cpu should have been refused")
'''
# Proves the annotations reach mypy: were gharts_core untyped, this would pass as Any.
MISTYPED_SCRIPT = """from gharts_core.policy import LabelPolicy, evaluate_labels

count: int = evaluate_labels(LabelPolicy(required_labels=["a"]), ["a"]).labels
"""


# Runs ``gharts`` (argv[2:]) in this interpreter as if the distributions of argv[1] were missing.
WITHOUT = """
import json, sys
from importlib.abc import MetaPathFinder

MISSING = set(json.loads(sys.argv[1]))


class Missing(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in MISSING:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, Missing())
from gharts_http.cli.main import main

sys.exit(main(sys.argv[2:]))
"""


def _run(
    *argv: str | Path, cwd: Path, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` outside this test's virtual environment; fail with its output if it fails."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["UV_PYTHON_DOWNLOADS"] = "never"  # the interpreter is this one, never a downloaded one
    result = subprocess.run(  # noqa: S603 - our own tools on our own files
        [str(arg) for arg in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        assert 0 == result.returncode, f"{argv}:\n{result.stdout}\n{result.stderr}"
    return result


@attrs.frozen
class Installer:
    """Builds the wheel and makes virtual environments with ``uv`` if present, else pip."""

    work: Path
    uv: str | None = attrs.field(factory=lambda: shutil.which("uv"))

    def build_wheel(self) -> Path:
        """Build the wheel of this checkout and return its path."""
        out = self.work / "dist"
        if self.uv:
            _run(self.uv, "build", "--wheel", "--out-dir", out, REPO, cwd=self.work)
        else:
            builder = self.venv("builder")
            _run(builder, "-m", "pip", "wheel", "--no-deps", "-w", out, REPO, cwd=self.work)
        (wheel,) = out.glob("gharts-*.whl")
        return wheel

    def venv(self, name: str) -> Path:
        """Create a fresh virtual environment on this interpreter; return its ``python``."""
        path = self.work / name
        if self.uv:
            _run(self.uv, "venv", "--quiet", "--python", sys.executable, path, cwd=self.work)
        else:
            _run(sys.executable, "-m", "venv", path, cwd=self.work)
        return path / "bin" / "python"

    def install(self, python: Path, *requirements: str) -> None:
        """Install ``requirements`` into the environment of ``python``."""
        if self.uv:
            _run(self.uv, "pip", "install", "--python", python, *requirements, cwd=self.work)
        else:
            _run(python, "-m", "pip", "install", "--quiet", *requirements, cwd=self.work)


@attrs.frozen
class Install:
    """A fresh virtual environment with the built wheel installed; commands run in ``work``."""

    work: Path
    wheel: Path
    python: Path

    def python_output(self, code: str, *args: str | Path) -> str:
        """Run ``code`` with the environment's interpreter; return its stdout."""
        return _run(self.python, "-c", code, *args, cwd=self.work).stdout


@pytest.fixture(scope="module")
def installer(tmp_path_factory: pytest.TempPathFactory) -> Installer:
    return Installer(tmp_path_factory.mktemp("distribution"))


@pytest.fixture(scope="module")
def wheel(installer: Installer) -> Path:
    return installer.build_wheel()


@pytest.fixture(scope="module")
def plain_install(installer: Installer, wheel: Path) -> Install:
    """``pip install gharts``: the wheel without extras."""
    python = installer.venv("plain")
    installer.install(python, str(wheel))
    return Install(installer.work, wheel, python)


@pytest.mark.packaging
def test_the_wheel_holds_the_three_packages_each_typed(plain_install: Install) -> None:
    """The wheel holds ``gharts_core``, ``gharts_adapters`` and ``gharts_http``, each typed."""
    listing = plain_install.python_output(
        "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        plain_install.wheel,
    )
    names = set(listing.split())

    packages = ["gharts_core", "gharts_adapters", "gharts_http"]
    assert [] == [p for p in packages if f"{p}/__init__.py" not in names]
    assert [] == [p for p in packages if f"{p}/py.typed" not in names]


@pytest.mark.packaging
def test_a_plain_install_is_gharts_attrs_google_re2_and_structlog(
    plain_install: Install,
) -> None:
    """No web framework, database driver or HTTP client comes with ``pip install gharts``."""
    installed = set(json.loads(plain_install.python_output(DISTRIBUTIONS)))

    assert CORE_DISTRIBUTIONS == installed - VENV_OWN


@pytest.mark.packaging
def test_every_core_module_imports_on_a_plain_install(plain_install: Install) -> None:
    """Only the Hypothesis strategies need more than the plain install (the testing extra)."""
    missed = json.loads(plain_install.python_output(CORE_MODULES))

    assert {"hypothesis"} == set(missed.values()), missed
    assert [] == [name for name in missed if not name.startswith("gharts_core.testing.")]


@pytest.mark.packaging
@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_gharts_without_the_server_extra_says_how_to_get_it(
    plain_install: Install, argv: list[str]
) -> None:
    """Every command, help included, prints one line naming ``gharts[server]`` and exits 2."""
    gharts = plain_install.python.parent / "gharts"
    result = _run(gharts, *argv, cwd=plain_install.work, check=False)

    assert (2, "", [NO_SERVER]) == (result.returncode, result.stdout, result.stderr.splitlines())


@pytest.mark.packaging
def test_the_guide_blocks_that_need_no_extra_run_on_a_plain_install(
    plain_install: Install,
) -> None:
    """The blocks of docs/embedding.md before the Hypothesis ones run on ``pip install gharts``."""
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    plain = [(n, b) for n, b in enumerate(blocks, start=1) if "hypothesis" not in b]
    script = plain_install.work / "plain_blocks.json"
    script.write_text(json.dumps(plain), encoding="utf-8")

    plain_install.python_output(RUN_BLOCKS, script)

    assert 5 <= len(plain) < len(blocks)


@pytest.fixture(scope="module")
def testing_install(installer: Installer, wheel: Path) -> Install:
    """``pip install 'gharts[testing]'`` and mypy, in an environment of its own."""
    python = installer.venv("testing")
    installer.install(python, f"gharts[testing] @ {wheel.as_uri()}", "mypy>=1.15")
    return Install(installer.work, wheel, python)


@pytest.mark.packaging
def test_the_whole_guide_and_its_tests_run_with_the_testing_extra(
    testing_install: Install,
) -> None:
    """Every block of docs/embedding.md runs, and the tests it defines pass, on the wheel."""
    testing_install.python_output(RUN_GUIDE_TESTS, Path(test_embedding_doc.__file__))


@pytest.mark.packaging
def test_an_embedding_script_passes_mypy_strict(testing_install: Install) -> None:
    """``py.typed`` reaches mypy: no ``import-untyped``, no ``Any``, and a wrong type is caught."""
    work = testing_install.work
    (work / "mypy.ini").write_text("[mypy]\n", encoding="utf-8")
    (work / "embedding.py").write_text(EMBEDDING_SCRIPT, encoding="utf-8")
    (work / "mistyped.py").write_text(MISTYPED_SCRIPT, encoding="utf-8")
    python = testing_install.python
    mypy: list[str | Path] = [python, "-m", "mypy", "--strict", "--config-file", "mypy.ini"]

    typed = _run(*mypy, "--disallow-any-expr", "embedding.py", cwd=work, check=False)
    mistyped = _run(*mypy, "mistyped.py", cwd=work, check=False)
    ran = _run(python, "embedding.py", cwd=work, check=False)

    assert (0, 0) == (typed.returncode, ran.returncode), typed.stdout + ran.stderr
    assert 1 == mistyped.returncode, mistyped.stdout
    assert re.search(r'has type "tuple\[str, \.\.\.\]", variable has type "int"', mistyped.stdout)


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_every_command_without_the_server_extra_says_how_to_get_it(
    tmp_path: Path, argv: list[str]
) -> None:
    """With the server's distributions hidden, each command prints the one line and exits 2."""
    missing = json.dumps(sorted(SERVER_IMPORTS))
    result = _run(
        sys.executable, "-c", WITHOUT, missing, *argv, cwd=tmp_path, check=False, timeout=60
    )

    assert (2, "", [NO_SERVER]) == (result.returncode, result.stdout, result.stderr.splitlines())


@pytest.mark.parametrize(
    ("missing", "argv"),
    [("uvicorn", ["serve"]), ("joserfc", ["dev", "token"]), ("sqlalchemy", ["--help"])],
)
def test_one_missing_server_distribution_is_enough_to_say_so(
    tmp_path: Path, missing: str, argv: list[str]
) -> None:
    """A half-installed server extra gets the same answer as none at all."""
    result = _run(
        sys.executable,
        "-c",
        WITHOUT,
        json.dumps([missing]),
        *argv,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )

    assert (2, "", [NO_SERVER]) == (result.returncode, result.stdout, result.stderr.splitlines())


def test_the_cli_knows_every_distribution_of_the_server_extra() -> None:
    """``SERVER_IMPORTS`` names the import of each distribution in ``gharts[server]``."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    server = pyproject["project"]["optional-dependencies"]["server"]
    imports = {re.split(r"[\[<>=;~! ]", requirement)[0].replace("-", "_") for requirement in server}

    assert imports == SERVER_IMPORTS
