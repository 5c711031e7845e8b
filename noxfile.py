"""Developer and CI tasks. Bare `nox` runs the CI set: lint, typecheck, imports, tests."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "typecheck", "imports", "tests"]
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _install(session: nox.Session, *groups: str, project: bool = True) -> None:
    requirements = [
        req for group in groups for req in nox.project.dependency_groups(PYPROJECT, group)
    ]
    if project:
        # The service is the `server` extra; a plain install is the policy engine alone.
        session.install("-e", ".[server,testing]", *requirements)
    else:
        session.install(*requirements)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    _install(session, "lint", project=False)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Mypy in strict mode over the three packages."""
    _install(session, "typecheck")
    session.run("mypy")


@nox.session
def imports(session: nox.Session) -> None:
    """The import-linter contracts: layers, a pure core, independent adapters."""
    _install(session, "imports")
    session.run("lint-imports")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite with branch coverage; the core must stay at 95 % or more."""
    _install(session, "test")
    profile = "ci" if os.environ.get("CI") else "dev"
    session.run(
        "pytest",
        f"--hypothesis-profile={profile}",
        "--cov",
        "--cov-report=term",
        "--cov-report=json:.coverage.json",
        *session.posargs,
    )
    session.run("python", "-m", "tools.coverage_gate", ".coverage.json", "gharts_core", "95")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Throughput benchmarks; writes JSON results to bench/results.json and prints a summary."""
    _install(session, "bench")
    session.run("python", "-m", "bench", *session.posargs)
