"""The dev app in process for dashboard tests, and a browser-like login through its dev issuer."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import attrs
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from gharts_adapters.identity import DevIssuer
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.cli.dev.app import create_dev_app, dev_settings, dev_verifier
from gharts_http.cli.dev.data_dir import DATABASE_FILE, issuer_url
from gharts_http.cli.dev.seed import DEV_ADMIN_EMAIL, seed_dev_data

PUBLIC_URL = "http://127.0.0.1:8000"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@attrs.frozen
class DevDashboard:
    """The dev app in process, its services and issuer, and an HTTP client on it."""

    http: AsyncTestClient[Litestar]
    services: Services
    issuer: DevIssuer


def prepared(data_dir: Path, template: Path) -> Path:
    """Create ``data_dir`` holding a copy of the migrated ``template`` database."""
    data_dir.mkdir()
    (data_dir / DATABASE_FILE).write_bytes(template.read_bytes())
    return data_dir


@asynccontextmanager
async def dev_dashboard(data_dir: Path) -> AsyncIterator[DevDashboard]:
    """Run the seeded dev app on the database in ``data_dir`` (see :func:`prepared`)."""
    settings = dev_settings(
        data_dir, host="127.0.0.1", port=8000, public_url=PUBLIC_URL, admin_email=DEV_ADMIN_EMAIL
    )
    issuer = DevIssuer(issuer_url(PUBLIC_URL), key_dir=data_dir)
    async with httpx.AsyncClient(transport=issuer.transport()) as identity_client:
        services = bootstrap(settings, identity=dev_verifier(issuer, identity_client))
        try:
            await seed_dev_data(services, issuer.issuer)
            app = create_dev_app(services, issuer)
            async with AsyncTestClient(app, base_url=PUBLIC_URL) as http:
                yield DevDashboard(http, services, issuer)
        finally:
            await services.aclose()


def relative(location: str) -> str:
    """Return the path and query of a redirect's ``Location``."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def hidden_fields(html: str) -> list[tuple[str, str]]:
    """Return the hidden inputs of a page, in order."""
    return _HIDDEN.findall(html)


def csrf_token(html: str) -> str:
    """Return the page's CSRF token."""
    return next(value for name, value in hidden_fields(html) if name == "csrf_token")


async def log_in(
    http: AsyncTestClient[Litestar], email: str = DEV_ADMIN_EMAIL, *, path: str = "/"
) -> httpx.Response:
    """Log in as ``email`` the way a browser does, starting at ``path``; return the last answer.

    Anonymous, asking for ``path`` redirects to the login; logged in, the login starts anew.
    """
    asked = await http.get(path, follow_redirects=False)
    if asked.status_code == 303:
        start = relative(asked.headers["location"])
    else:  # already logged in: log in again, as someone going to /login would
        start = "/login?" + urlencode({"next": path})
    login = await http.get(start, follow_redirects=False)
    assert login.status_code == 303, login.text
    authorize = await http.get(relative(login.headers["location"]))
    assert authorize.status_code == 200, authorize.text
    fields = _request_fields(authorize.text, email)
    action = relative(login.headers["location"]).split("?")[0]
    chosen = await http.post(action, data=fields, follow_redirects=False)
    assert chosen.status_code == 303, chosen.text
    return await http.get(relative(chosen.headers["location"]), follow_redirects=False)


def _request_fields(html: str, email: str) -> dict[str, str]:
    """Return the fields of the login page's form of ``email``."""
    for form in html.split("<form")[1:]:
        fields = dict(hidden_fields(form))
        if fields.get("email") == email:
            return fields
    raise AssertionError(f"{email} is not on the login page")
