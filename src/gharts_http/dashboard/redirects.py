"""The return path after login: a same-origin relative path, or the runners page."""

from __future__ import annotations

from urllib.parse import urlsplit

HOME = "/"


def safe_return_path(value: str | None) -> str:
    r"""Return ``value`` when it is a relative path on this origin, else ``/``.

    Refused: absolute URLs, scheme-relative ``//host``, backslashes (browsers read ``/\host``
    as ``//host``), control characters, and the login pages themselves.
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return HOME
    if "\\" in value or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    if parts.path.startswith(("/login", "/auth/", "/logout")):
        return HOME
    return value
