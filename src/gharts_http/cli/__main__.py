"""``python -m gharts_http.cli``: the ``gharts`` command without its console script."""

import sys

from gharts_http.cli.main import main

sys.exit(main())
