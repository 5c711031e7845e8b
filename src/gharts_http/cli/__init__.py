"""The ``gharts`` command line; :func:`main` is the console script.

Only :mod:`gharts_http.cli.main` and :mod:`gharts_http.cli.errors` are imported up front: the
server commands import the application when they are built, so ``gharts dev token`` stays fast.
"""

from gharts_http.cli.main import main

__all__ = ["main"]
