"""The API edge's one cattrs converter: JSON bodies and queries in, attrs request classes out.

Unknown keys are refused (``forbid_extra_keys``) so a typo in a field name is a clear
``VALIDATION_ERROR`` instead of a silently ignored setting. Every structuring failure becomes a
:class:`~gharts_core.errors.ValidationFailed` whose ``field_errors`` map a dotted field path to one
sentence.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, TypeVar

import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)

from gharts_core.errors import ValidationFailed

T = TypeVar("T")

api_converter = cattrs.Converter(forbid_extra_keys=True)


def _structure_uuid(value: object, _type: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise TypeError("must be a UUID string")
    return uuid.UUID(value)


def _structure_datetime(value: object, _type: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError("must be an RFC 3339 timestamp string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("must carry a UTC offset, e.g. 2026-01-01T00:00:00Z")
    return parsed


def _strict(kind: type[Any], name: str) -> Any:
    # cattrs would turn "12" into 12 or 1 into True; JSON clients deserve the type they declared.
    def structure(value: object, _type: object) -> Any:
        if type(value) is not kind and not (kind is float and type(value) is int):
            raise TypeError(f"must be {name}")
        return value

    return structure


api_converter.register_structure_hook(uuid.UUID, _structure_uuid)
api_converter.register_structure_hook(datetime, _structure_datetime)
api_converter.register_structure_hook(str, _strict(str, "a string"))
api_converter.register_structure_hook(int, _strict(int, "an integer"))
api_converter.register_structure_hook(bool, _strict(bool, "a boolean"))


_EXTRA = "extra fields found ("


def _field_errors(error: Exception) -> dict[str, str]:
    if isinstance(error, ForbiddenExtraKeysError):
        return dict.fromkeys(sorted(error.extra_fields), "unknown field")
    if isinstance(error, ClassValidationError | IterableValidationError):
        errors: dict[str, str] = {}
        for line in cattrs.transform_error(error, path="$"):
            message, _, location = line.partition(" @ ")
            path = location.removeprefix("$").lstrip(".")
            if message.startswith(_EXTRA):
                for name in message.removeprefix(_EXTRA).rstrip(")").split(", "):
                    errors.setdefault(f"{path}.{name}" if path else name, "unknown field")
                continue
            errors.setdefault(path or "body", _sentence(message))
        return errors
    return {"body": _sentence(str(error))}


def _sentence(message: str) -> str:
    message = message.replace("required field missing", "is required")
    return message.replace("invalid value for type, expected ", "must be ")


def structure(data: object, cls: type[T]) -> T:
    """Structure decoded JSON into ``cls`` or raise ``ValidationFailed`` naming each bad field."""
    if not isinstance(data, dict):
        raise ValidationFailed({"body": "must be a JSON object"})
    try:
        return api_converter.structure(data, cls)
    except ValidationFailed:
        raise
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as error:
        raise ValidationFailed(_field_errors(error)) from error


def decode_json(raw: bytes) -> object:
    """Parse a request body as JSON or raise ``ValidationFailed``."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed({"body": f"is not valid JSON: {error}"}) from error
