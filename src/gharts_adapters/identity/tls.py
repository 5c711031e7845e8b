"""TLS to an issuer whose certificate a private CA signed (a Kubernetes API server's, say)."""

from __future__ import annotations

import ssl


def load_ca_bundle(path: str) -> ssl.SSLContext:
    """Return a client TLS context trusting only the PEM certificates in ``path``.

    Hostnames are checked as usual. Raise :class:`ValueError` naming the file when it cannot be
    read or holds no CA certificate.
    """
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=path)
    except OSError as exc:
        # ssl.SSLError is an OSError too; its strerror is None, its reason says what went wrong.
        why = exc.strerror or getattr(exc, "reason", None) or str(exc)
        raise ValueError(f"ca_bundle_path {path!r} cannot be used: {why}") from None
    if not context.cert_store_stats()["x509_ca"]:
        raise ValueError(f"ca_bundle_path {path!r} holds no CA certificate")
    return context
