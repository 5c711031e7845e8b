"""``python -m bench._issuer KEY_DIR PORT``: serve a development issuer's documents on loopback.

The out-of-process benchmark trusts this issuer the way production trusts a real one: ``gharts
serve`` fetches its discovery document and JWKS over HTTP. The benchmark itself loads the same
keys from ``KEY_DIR`` to mint the tokens it sends.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from litestar import Litestar, get
from litestar.handlers import HTTPRouteHandler

from gharts_adapters.identity import DevIssuer

ISSUER_PATH = "/dev/oidc"


def issuer_url(port: int) -> str:
    """Return the issuer URL served on ``port``."""
    return f"http://127.0.0.1:{port}{ISSUER_PATH}"


def _handler(path: str, document: dict[str, Any]) -> HTTPRouteHandler:
    @get(path, name=path, sync_to_thread=False)
    def serve_document() -> dict[str, Any]:
        return document

    return serve_document


def main(key_dir: str, port: int) -> None:
    """Serve the issuer's discovery document and JWKS until killed."""
    issuer = DevIssuer(issuer_url(port), key_dir=key_dir)
    handlers = [_handler(ISSUER_PATH + rel, doc) for rel, doc in issuer.documents().items()]
    app = Litestar(handlers)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
