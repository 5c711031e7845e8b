"""``gharts dev``: the whole service on one machine with embedded defaults.

:mod:`~gharts_http.cli.dev.command` parses ``gharts dev`` and ``gharts dev token``;
:mod:`~gharts_http.cli.dev.data_dir` says what lives in the data directory;
:mod:`~gharts_http.cli.dev.server` runs the server half with :mod:`~gharts_http.cli.dev.app`,
:mod:`~gharts_http.cli.dev.seed` and :mod:`~gharts_http.cli.dev.banner`.
"""

from gharts_http.cli.dev.command import add_dev_parser

__all__ = ["add_dev_parser"]
