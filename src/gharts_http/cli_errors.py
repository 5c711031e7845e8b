"""Exit codes and the usage error of the command line: importable without the server stack."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3


class UsageError(Exception):
    """The command line is wrong; the message is one line."""
