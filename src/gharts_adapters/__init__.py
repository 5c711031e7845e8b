"""gharts_adapters: the ports of gharts_core on real libraries, one package per port.

``identity`` verifies OIDC JWTs with joserfc (and serves the development issuer), ``github``
talks to GitHub's REST API with httpx (and simulates it), ``storage`` keeps the records with
SQLAlchemy on SQLite or PostgreSQL. They are independent of each other; import the one you need.
"""

__all__ = ["github", "identity", "storage"]
