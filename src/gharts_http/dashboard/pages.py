"""HTML responses: the Jinja2 templates, and the security headers every dashboard page carries.

Pages are rendered by Jinja2 with autoescaping on. Every page gets a Content-Security-Policy
without inline scripts or styles (scripts come from ``/static`` only), ``frame-ancestors 'none'``,
``Referrer-Policy``, ``X-Content-Type-Options`` and ``Cache-Control: no-store`` (pages are
per-person, and some show secrets once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
from litestar import Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("gharts_http.dashboard", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, context: Mapping[str, Any]) -> str:
    """Return the rendered ``template`` (a file in ``templates/``)."""
    return _environment.get_template(template).render(**context)


def page(
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    cookies: Sequence[Cookie] = (),
) -> Response[str]:
    """Return an HTML response of ``template`` with the security headers."""
    return Response(
        content=render(template, context),
        status_code=status,
        media_type=MediaType.HTML,
        headers=dict(SECURITY_HEADERS),
        cookies=list(cookies),
    )


def redirect(location: str, *, cookies: Sequence[Cookie] = ()) -> Response[str]:
    """Return a ``303 See Other`` to ``location`` with the security headers."""
    return Response(
        content="",
        status_code=303,
        headers={**SECURITY_HEADERS, "Location": location},
        cookies=list(cookies),
    )
