"""Building subcommands the same way: a description, its ``Example:`` lines, the common options.

Every ``Example:`` line a command's ``--help`` shows is run by a test against a dev database, in
the order ``--help`` shows them, so an example is a promise: copy it and it works.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from gharts_http.bootstrap import Services
from gharts_http.cli.output import add_output_option
from gharts_http.cli.support import add_actor_option, with_services

__all__ = ["EXAMPLE_PREFIX", "Action", "add_command", "runs"]

EXAMPLE_PREFIX = "Example: "

#: What a subcommand does once the services are up: ``action(args, services) -> exit code``.
Action = Callable[[argparse.Namespace, Services], Awaitable[int]]


def runs(action: Action, *, require_github: bool = False) -> Callable[[argparse.Namespace], int]:
    """Return the ``func`` of a subcommand that runs ``action(args, services)``."""
    return lambda args: with_services(
        args, lambda services: action(args, services), require_github=require_github
    )


def add_command(
    commands: Any,
    name: str,
    *,
    help: str,  # noqa: A002 - argparse's own name for it
    description: str,
    examples: Sequence[str] = (),
    action: Action | None = None,
    output: bool = True,
    writes: bool = False,
    require_github: bool = False,
) -> argparse.ArgumentParser:
    """Add subcommand ``name``: its help, examples, ``--output`` and (if it writes) ``--actor``."""
    text = textwrap.fill(description, width=88)
    if examples:
        text += "\n\n" + "\n".join(f"{EXAMPLE_PREFIX}{example}" for example in examples)
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help, description=text, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if output:
        add_output_option(parser)
    if writes:
        add_actor_option(parser)
    if action is not None:
        parser.set_defaults(func=runs(action, require_github=require_github))
    return parser
