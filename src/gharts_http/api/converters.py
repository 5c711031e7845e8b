"""The API edge's one way in: JSON bodies and queries to attrs request classes, those to commands.

Unknown keys are refused (``forbid_extra_keys``) so a typo in a field name is a clear
``VALIDATION_ERROR`` instead of a silently ignored setting. Every structuring failure becomes a
:class:`~gharts_core.errors.ValidationFailed` whose ``field_errors`` map a dotted field path to one
sentence. :func:`to_command` then builds the core's command from a body, field by field.
"""

from __future__ import annotations

import enum
import json
import operator
import types
import typing
import uuid
from collections import abc
from collections.abc import Callable
from datetime import datetime
from functools import reduce
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.cols import list_structure_factory, mapping_structure_factory
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn
from cattrs.v import format_exception

from gharts_core.errors import ValidationFailed
from gharts_core.model import Unset

T = TypeVar("T")
C = TypeVar("C")

api_converter = cattrs.Converter(forbid_extra_keys=True)


class _Refused(ValueError):
    """A value of the wrong JSON type or form; the message is the sentence the client sees."""


def _structure_uuid(value: object, _type: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise _Refused("must be a UUID")


def _structure_datetime(value: object, _type: object) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise _Refused("must be an RFC 3339 timestamp, e.g. 2026-01-01T00:00:00Z")
    if parsed.tzinfo is None:
        raise _Refused("must carry a UTC offset, e.g. 2026-01-01T00:00:00Z")
    return parsed


def _strict(kind: type[Any], name: str) -> Any:
    # cattrs would turn "12" into 12 or 1 into True; JSON clients deserve the type they declared.
    def structure(value: object, _type: object) -> Any:
        if type(value) is kind:
            if kind is str and "\x00" in value:  # type: ignore[operator]
                raise _Refused("must not contain a NUL character")
            return value
        if kind is float and type(value) is int:
            return float(value)
        raise _Refused(f"must be {name}")

    return structure


api_converter.register_structure_hook(uuid.UUID, _structure_uuid)
api_converter.register_structure_hook(datetime, _structure_datetime)
api_converter.register_structure_hook(str, _strict(str, "a string"))
api_converter.register_structure_hook(int, _strict(int, "an integer"))
api_converter.register_structure_hook(float, _strict(float, "a number"))
api_converter.register_structure_hook(bool, _strict(bool, "a boolean"))

# cattrs iterates whatever it is given: "gpu" would become ["g", "p", "u"] and {"a": 1} ["a"].
# Collections, maps and objects accept only the JSON shape they are declared with.
_ARRAYS: dict[Any, Callable[[list[Any]], Any]] = {
    list: list,
    tuple: tuple,
    set: set,
    frozenset: frozenset,
    abc.Sequence: list,
    abc.MutableSequence: list,
    abc.Set: frozenset,
    abc.MutableSet: set,
}
_MAPS = (dict, abc.Mapping, abc.MutableMapping)


def _is_array(annotation: Any) -> bool:
    origin, args = typing.get_origin(annotation) or annotation, typing.get_args(annotation)
    if origin is tuple:
        return len(args) == 2 and args[1] is Ellipsis  # tuple[X, ...]; fixed tuples stay cattrs'
    return isinstance(origin, type) and origin in _ARRAYS


def _structure_array(annotation: Any) -> Callable[[object, object], Any]:
    args = typing.get_args(annotation)
    item = list[args[0]] if args else list[Any]  # type: ignore[valid-type]
    items = list_structure_factory(item, api_converter)
    make = _ARRAYS[typing.get_origin(annotation) or annotation]

    def structure(value: object, _type: object) -> Any:
        if not isinstance(value, list):
            raise _Refused("must be a list")
        return make(items(value, item))

    return structure


def _only_objects(
    factory: Callable[[Any, cattrs.Converter], Callable[[Any, Any], Any]],
) -> Callable[[Any], Callable[[object, object], Any]]:
    def make(annotation: Any) -> Callable[[object, object], Any]:
        hook = factory(annotation, api_converter)

        def structure(value: object, _type: object) -> Any:
            if not isinstance(value, dict):
                raise _Refused("must be an object")
            return hook(value, annotation)

        return structure

    return make


def _is_map(annotation: Any) -> bool:
    return (typing.get_origin(annotation) or annotation) in _MAPS


def _is_enum(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, enum.Enum)


def _structure_enum(cls: type[enum.Enum]) -> Callable[[object, object], Any]:
    allowed = ", ".join(str(member.value) for member in cls)

    def structure(value: object, _type: object) -> Any:
        try:
            return cls(value)
        except ValueError:
            raise _Refused(f"must be one of: {allowed}") from None

    return structure


api_converter.register_structure_hook_factory(_is_array, _structure_array)
api_converter.register_structure_hook_factory(_is_map, _only_objects(mapping_structure_factory))
api_converter.register_structure_hook_factory(attrs.has, _only_objects(make_dict_structure_fn))
api_converter.register_structure_hook_factory(_is_enum, _structure_enum)


def is_patch_field(annotation: Any) -> bool:
    """Whether ``annotation`` is a union with :class:`Unset`: a field a ``PATCH`` may leave out."""
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and Unset in (
        typing.get_args(annotation)
    )


def without_unset(annotation: Any) -> Any:
    """Return a patch field's type as sent on the wire: ``int | Unset | None`` -> ``int | None``."""
    if not is_patch_field(annotation):
        return annotation
    return reduce(operator.or_, [arg for arg in typing.get_args(annotation) if arg is not Unset])


def _structure_patch_field(annotation: Any) -> Callable[[object, object], Any]:
    sent = without_unset(annotation)
    hook = api_converter.get_structure_hook(sent)

    def structure(value: object, _type: object) -> Any:
        return hook(value, sent)

    return structure


api_converter.register_structure_hook_factory(is_patch_field, _structure_patch_field)


_EXTRA = "extra fields found ("


def _field_errors(error: Exception) -> dict[str, str]:
    if isinstance(error, ForbiddenExtraKeysError):
        return dict.fromkeys(sorted(error.extra_fields), "unknown field")
    if isinstance(error, ClassValidationError | IterableValidationError):
        errors: dict[str, str] = {}
        for line in cattrs.transform_error(error, path="$", format_exception=_format_exception):
            message, _, location = line.partition(" @ ")
            path = location.removeprefix("$").lstrip(".")
            if message.startswith(_EXTRA):
                for name in message.removeprefix(_EXTRA).rstrip(")").split(", "):
                    errors.setdefault(f"{path}.{name}" if path else name, "unknown field")
                continue
            errors.setdefault(path or "body", _sentence(message))
        return errors
    return {"body": _sentence(str(error))}


def _format_exception(error: BaseException, annotation: Any) -> str:
    if isinstance(error, _Refused):
        return str(error)
    # Name the type the client may send, not the internal "left out" marker.
    return format_exception(error, without_unset(annotation))


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


def to_command(body: attrs.AttrsInstance, command_type: type[C]) -> C:
    """Build the core's ``command_type`` from a request body's fields, by name, values as they are.

    Strict: a body field the command does not take is a ``TypeError``, never silently dropped. The
    command validates the values; a ``PATCH`` body's left-out fields hold the core's own ``UNSET``,
    so they stay left out.
    """
    fields = attrs.fields(type(body))
    return command_type(**{field.name: getattr(body, field.name) for field in fields})


def decode_json(raw: bytes | str) -> object:
    r"""Parse a request body as JSON or raise ``ValidationFailed``.

    Refused besides malformed JSON: nesting too deep for the parser, and a lone surrogate
    (a ``\ud800`` escape) anywhere, which is valid JSON but not Unicode text, and which no database
    stores and no response can echo.
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed({"body": f"is not valid JSON: {error}"}) from error
    except RecursionError:
        raise ValidationFailed({"body": "is nested too deeply"}) from None
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed(
            {"body": "contains a lone surrogate escape (\\ud800-\\udfff), which is not text"}
        ) from None
    return data
