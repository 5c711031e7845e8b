"""``gharts completion bash|zsh``: the shell completion script, generated from the parser.

shtab reads the argparse parser itself, so the script always knows every command and option of
this version, and nothing runs at completion time (no Python start per <Tab>, unlike
argcomplete). Install: ``gharts completion bash > /etc/bash_completion.d/gharts``, or for zsh
``gharts completion zsh > "${fpath[1]}/_gharts"``.
"""

from __future__ import annotations

import argparse
from typing import Any

import shtab

from gharts_http.cli.errors import EXIT_OK

SHELLS = ("bash", "zsh")


def add_completion_parser(commands: Any, root: argparse.ArgumentParser) -> None:
    """Register ``gharts completion`` for the whole command line ``root``."""
    completion = commands.add_parser(
        "completion",
        help="print the shell completion script (bash or zsh)",
        description="Print the completion script for the shell. Install it with: gharts "
        "completion bash > /etc/bash_completion.d/gharts (zsh: gharts completion zsh > "
        '"${fpath[1]}/_gharts").\n\nExample: gharts completion bash',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell")

    def run(args: argparse.Namespace) -> int:
        print(shtab.complete(root, shell=args.shell), end="")
        return EXIT_OK

    completion.set_defaults(func=run)
