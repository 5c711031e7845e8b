"""Check HTTP exchanges against the committed subset of GitHub's OpenAPI description."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SUBSET = Path(__file__).parent / "data" / "github-openapi-subset.json"
_BASE = "urn:github-openapi"


def _nullable_to_json_schema(node: Any) -> Any:
    """Rewrite OpenAPI 3.0 ``nullable: true`` into JSON Schema's ``null`` type."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable_to_json_schema(value) for key, value in node.items()}
    if out.pop("nullable", False):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(quote(p.replace("~", "~0").replace("/", "~1"), safe="") for p in parts)


class GitHubOpenAPI:
    """The operations gharts uses, with JSON Schema validation of their bodies."""

    def __init__(self, path: Path = SUBSET) -> None:
        self.document: dict[str, Any] = _nullable_to_json_schema(json.loads(path.read_text()))
        resource = Resource.from_contents(self.document, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(_BASE, resource)
        self._routes = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"), template)
            for template in self.document["paths"]
        ]

    @property
    def version(self) -> str:
        """The ``@octokit/openapi`` version the subset was extracted from."""
        return str(self.document["info"]["x-source"]["version"])

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """Return ``(path template, operation)`` for a concrete request, if documented."""
        for pattern, template in self._routes:
            if pattern.match(path):
                operation = self.document["paths"][template].get(method.lower())
                return (template, operation) if operation else None
        return None

    def problems(self, response: httpx.Response, api_prefix: str = "") -> list[str]:
        """Return every way the request body or the response breaks the description."""
        request = response.request
        path = request.url.path.removeprefix(api_prefix)
        found = self.operation(request.method, path)
        if found is None:
            return [f"{request.method} {path} is not an operation of the subset"]
        template, operation = found
        method = request.method.lower()
        where = f"{request.method} {template}"
        problems = []
        if request.content:
            media = _pointer("paths", template, method, "requestBody", "content")
            if "requestBody" not in operation:
                problems.append(f"{where} sends a body the operation does not take")
            else:
                schema = f"{media}/application~1json/schema"
                problems += self._check(json.loads(request.content), schema, f"{where} request")
        status = str(response.status_code)
        documented = operation["responses"].get(status)
        if documented is None:
            if 200 <= response.status_code < 300:
                problems.append(f"{where} answered undocumented {status}")
            return problems
        base = _pointer("paths", template, method, "responses", status)
        if "$ref" in documented:
            base = documented["$ref"]
            documented = self._resolve(base)
        if "application/json" in documented.get("content", {}):
            schema = f"{base}/content/application~1json/schema"
            problems += self._check(response.json(), schema, f"{where} {status} response")
        elif response.content:
            problems.append(f"{where} {status} has a body the description does not document")
        return problems

    def validate(self, instance: Any, pointer: str) -> list[str]:
        """Validate ``instance`` against the schema at ``pointer`` (e.g. a component)."""
        return self._check(instance, pointer, pointer)

    def _resolve(self, pointer: str) -> dict[str, Any]:
        node: Any = self.document
        for part in pointer.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return dict(node)

    def _check(self, instance: Any, pointer: str, label: str) -> list[str]:
        validator = jsonschema.Draft4Validator({"$ref": _BASE + pointer}, registry=self._registry)
        return [
            f"{label}: {error.message} at {list(error.absolute_path)}"
            for error in validator.iter_errors(instance)
        ]


class ExchangeRecorder:
    """An httpx response hook validating every GitHub exchange; control calls are skipped."""

    def __init__(self, openapi: GitHubOpenAPI, api_prefix: str = "") -> None:
        self._openapi = openapi
        self._api_prefix = api_prefix
        self.validated = 0
        self.problems: list[str] = []
        self.paths: list[tuple[str, str]] = []

    async def __call__(self, response: httpx.Response) -> None:
        """Record and validate one exchange."""
        path = response.request.url.path.removeprefix(self._api_prefix)
        if path.startswith("/_simulator"):
            return
        await response.aread()
        self.paths.append((response.request.method, path))
        self.problems += self._openapi.problems(response, self._api_prefix)
        self.validated += 1
