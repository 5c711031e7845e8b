"""The API edge converter: strict JSON types, unknown keys named, nested paths, round-trips."""

from __future__ import annotations

import enum
import functools
import importlib
import inspect
import json
import pkgutil
import types
import typing
import uuid
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Controller
from litestar.handlers import HTTPRouteHandler

from gharts_core.errors import ValidationFailed
from gharts_core.services.admin_clients import UpdateClient
from gharts_core.services.admin_teams import UpdateTeam
from gharts_core.services.admin_users import UpdateUser
from gharts_core.services.provision import ProvisionJitRunner, ProvisionRegistrationToken
from gharts_http.api import schemas
from gharts_http.api.app import ROUTE_HANDLERS
from gharts_http.api.converters import decode_json, structure, to_command
from gharts_http.api.schemas.admin import (
    CreateTeamBody,
    UpdateClientBody,
    UpdateTeamBody,
    UpdateUserBody,
)
from gharts_http.api.schemas.runners import PolicyCheckBody, ProvisionJitBody, ProvisionTokenBody

#: Text a client may send: anything but the NUL character, which the edge refuses (tested below).
TEXT = functools.partial(st.text, alphabet=st.characters(exclude_characters="\x00"))


class Colour(enum.Enum):
    """An enum field of the test classes."""

    RED = "red"
    BLUE = "blue"


@attrs.frozen(kw_only=True)
class Inner:
    """A nested object."""

    count: int
    when: datetime | None = None
    colour: Colour = Colour.RED


@attrs.frozen(kw_only=True)
class Outer:
    """An object with every shape a request body may have."""

    inner: Inner
    items: list[Inner] = attrs.field(factory=list)
    ratio: float = 1.0
    tags: dict[str, int] = attrs.field(factory=dict)
    names: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()


def field_errors(data: object, cls: type[Any]) -> dict[str, str]:
    """Structure ``data`` expecting a refusal; return its field errors."""
    with pytest.raises(ValidationFailed) as caught:
        structure(data, cls)
    return dict(caught.value.field_errors)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"labels": ["a"], "runner_group_id": "12"}, "runner_group_id", "must be an integer"),
        ({"labels": ["a"], "runner_group_id": True}, "runner_group_id", "must be an integer"),
        ({"labels": ["a"], "runner_group_id": 1.5}, "runner_group_id", "must be an integer"),
        ({"labels": ["a"], "runner_name": 7}, "runner_name", "must be a string"),
        ({"labels": "gpu"}, "labels", "must be a list"),
        ({"labels": {"gpu": 1}}, "labels", "must be a list"),
        ({"labels": None}, "labels", "must be a list"),
        ({"labels": ["a", 1]}, "labels[1]", "must be a string"),
        ({"labels": ["a"], "team_id": "nope"}, "team_id", "must be a UUID"),
        ({"labels": ["a"], "team_id": 5}, "team_id", "must be a UUID"),
        ({"runner_name": "x"}, "labels", "is required"),
    ],
)
def test_refuses_a_value_of_the_wrong_json_type(data: object, field: str, message: str) -> None:
    """A value of another JSON type is refused, naming the field, never coerced."""
    assert {field: message} == field_errors(data, ProvisionJitBody)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"inner": {"count": "1"}}, "inner.count", "must be an integer"),
        ({"inner": {"count": 1.0}}, "inner.count", "must be an integer"),
        ({"inner": 5}, "inner", "must be an object"),
        ({"inner": [1]}, "inner", "must be an object"),
        ({"inner": {"count": 1, "when": "2026-01-01T00:00:00"}}, "inner.when", "must carry"),
        ({"inner": {"count": 1, "when": "yesterday"}}, "inner.when", "must be an RFC 3339"),
        ({"inner": {"count": 1, "when": 1767225600}}, "inner.when", "must be an RFC 3339"),
        ({"inner": {"count": 1, "colour": "green"}}, "inner.colour", "must be one of"),
        ({"inner": {"count": 1}, "ratio": True}, "ratio", "must be a number"),
        ({"inner": {"count": 1}, "ratio": "2.5"}, "ratio", "must be a number"),
        ({"inner": {"count": 1}, "tags": {"a": "b"}}, "tags['a']", "must be an integer"),
        ({"inner": {"count": 1}, "tags": ["a"]}, "tags", "must be an object"),
        ({"inner": {"count": 1}, "items": {"count": 1}}, "items", "must be a list"),
        ({"inner": {"count": 1}, "items": [{"count": 1}, {"count": "a"}]}, "items[1].count", ""),
        ({"inner": {"count": 1}, "names": "abc"}, "names", "must be a list"),
        ({"inner": {"count": 1}, "flags": "abc"}, "flags", "must be a list"),
        ({"inner": {"count": 1}, "flags": [1]}, "flags[0]", "must be a string"),
    ],
)
def test_names_the_nested_path_of_a_bad_value(data: object, field: str, message: str) -> None:
    """A bad value deep in the body is reported at its dotted path, with a sentence."""
    errors = field_errors(data, Outer)
    assert [field] == list(errors)
    assert errors[field].startswith(message), errors


def test_names_every_unknown_key_at_its_path() -> None:
    """Unknown keys are refused, each named where it was sent."""
    data = {
        "inner": {"count": 1, "cuont": 2},
        "items": [{"count": 1}, {"count": 2, "extra": 3}],
        "ration": 2,
    }
    expected = {
        "inner.cuont": "unknown field",
        "items[1].extra": "unknown field",
        "ration": "unknown field",
    }
    assert expected == field_errors(data, Outer)


def test_names_an_unknown_key_of_a_request_class() -> None:
    """A misspelt field of a real request body is named, not ignored."""
    assert {"lables": "unknown field"} == field_errors(
        {"labels": ["a"], "lables": ["b"]}, PolicyCheckBody
    )


def test_reports_every_bad_field_at_once() -> None:
    """Several mistakes give several field errors in one answer."""
    data = {"labels": "gpu", "runner_group_id": "1", "team_id": 3}
    assert {"labels", "runner_group_id", "team_id"} == set(field_errors(data, ProvisionJitBody))


@pytest.mark.parametrize("data", [[], "text", 3, None, True])
def test_refuses_a_body_that_is_not_an_object(data: object) -> None:
    """The body itself must be a JSON object."""
    assert {"body": "must be a JSON object"} == field_errors(data, ProvisionJitBody)


def test_accepts_the_json_types_it_declares() -> None:
    """Integers where numbers are expected, offsets in timestamps, enums by value, nulls."""
    data = {
        "inner": {"count": 3, "when": "2026-01-01T00:00:00Z", "colour": "blue"},
        "ratio": 2,
        "tags": {"a": 1},
        "names": ["x", "y"],
        "flags": ["f"],
    }
    expected = Outer(
        inner=Inner(count=3, when=datetime(2026, 1, 1, tzinfo=UTC), colour=Colour.BLUE),
        ratio=2.0,
        tags={"a": 1},
        names=("x", "y"),
        flags=frozenset({"f"}),
    )
    actual = structure(data, Outer)
    assert expected == actual
    assert float is type(actual.ratio)


def test_decode_json_refuses_malformed_json() -> None:
    """Bytes that are not JSON are a validation error on the body."""
    with pytest.raises(ValidationFailed) as caught:
        decode_json(b'{"labels": [')
    assert ["body"] == list(caught.value.field_errors)


def test_decode_json_refuses_bytes_that_are_not_utf8() -> None:
    """Undecodable bytes are a validation error, not a crash."""
    with pytest.raises(ValidationFailed):
        decode_json(b"\xff\xfe{")


# ---------------------------------------------------------------- round-trips


def request_classes() -> list[type[Any]]:
    """Every body class a route decodes with the edge converter."""
    found: dict[str, type[Any]] = {}
    for handler in ROUTE_HANDLERS:
        if isinstance(handler, type) and issubclass(handler, Controller):
            for value in vars(handler).values():
                model = getattr(getattr(value, "dto", None), "model_type", None)
                if isinstance(value, HTTPRouteHandler) and model is not None:
                    found[model.__qualname__] = model
    return [found[name] for name in sorted(found)]


def values_of(annotation: Any) -> st.SearchStrategy[Any]:
    """A strategy for Python values of ``annotation`` as a request class holds them."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([values_of(arg) for arg in args])
    if origin in (list, tuple, frozenset, set):
        items = st.lists(values_of(args[0]), max_size=4)
        return items if origin is list else items.map(origin)
    if origin is dict:
        return st.dictionaries(TEXT(max_size=8), values_of(args[1]), max_size=3)
    if attrs.has(annotation):
        return instances_of(annotation)
    scalars: dict[Any, st.SearchStrategy[Any]] = {
        type(None): st.none(),
        str: TEXT(max_size=20),
        int: st.integers(),
        bool: st.booleans(),
        float: st.floats(allow_nan=False, allow_infinity=False),
        uuid.UUID: st.uuids(),
        datetime: st.datetimes(timezones=st.just(UTC)),
        Any: st.none() | TEXT(max_size=5) | st.integers(),
    }
    if annotation in scalars:
        return scalars[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return st.sampled_from(list(annotation))
    raise NotImplementedError(f"no strategy for {annotation!r}")


def instances_of(cls: type[Any]) -> st.SearchStrategy[Any]:
    """A strategy for instances of the attrs class ``cls``."""
    hints = typing.get_type_hints(cls)
    fields = {field.name: values_of(hints[field.name]) for field in attrs.fields(cls)}
    return st.fixed_dictionaries(fields).map(lambda kwargs: cls(**kwargs))


def to_json(instance: Any) -> Any:
    """What a client sends for ``instance``: JSON text, fields left out (``UNSET``) omitted."""
    return json.loads(json.dumps(_encode(instance)))


_SCALARS: dict[type[Any], Any] = {uuid.UUID: str, datetime: datetime.isoformat}


def _encode(value: Any) -> Any:
    if attrs.has(type(value)):
        return {
            field.name: _encode(getattr(value, field.name))
            for field in attrs.fields(type(value))
            if not _left_out(getattr(value, field.name))
        }
    if isinstance(value, list | tuple | frozenset | set):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    return _SCALARS.get(type(value), lambda same: same)(value)


def _left_out(value: Any) -> bool:
    return isinstance(value, enum.Enum) and type(value).__name__ == "Unset"


def test_request_classes_are_found() -> None:
    """The round-trip below covers the runner and policy bodies at least."""
    names = {cls.__name__ for cls in request_classes()}
    assert {"ProvisionJitBody", "ProvisionTokenBody", "PolicyCheckBody"} <= names


@pytest.mark.parametrize("cls", request_classes(), ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_every_request_class_round_trips_through_json(cls: type[Any], data: st.DataObject) -> None:
    """What a client serialises from a body class structures back to an equal instance."""
    instance = data.draw(instances_of(cls))
    assert instance == structure(to_json(instance), cls)


@given(instance=instances_of(Outer))
def test_nested_objects_round_trip_through_json(instance: Outer) -> None:
    """Nested objects, lists, tuples, sets, maps, timestamps and enums survive the edge."""
    assert instance == structure(to_json(instance), Outer)


@pytest.mark.parametrize(
    ("body", "command"),
    [(ProvisionJitBody, ProvisionJitRunner), (ProvisionTokenBody, ProvisionRegistrationToken)],
)
def test_provisioning_bodies_carry_exactly_their_commands_fields(
    body: type[attrs.AttrsInstance], command: type[attrs.AttrsInstance]
) -> None:
    """The handlers pass a body's fields to its command as they are: the names must agree."""
    assert {f.name for f in attrs.fields(command)} == {f.name for f in attrs.fields(body)}


# ---------------------------------------------------------------- bodies into commands


def command_bodies() -> list[tuple[type[Any], type[Any]]]:
    """Every body class of the schemas with a ``command`` method, with the command it returns."""
    found: dict[str, tuple[type[Any], type[Any]]] = {}
    for module_info in pkgutil.iter_modules(schemas.__path__, f"{schemas.__name__}."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__:
                method = getattr(value, "command", None)
                if attrs.has(value) and callable(method):
                    found[value.__qualname__] = (value, typing.get_type_hints(method)["return"])
    return [found[name] for name in sorted(found)]


def test_command_bodies_are_found() -> None:
    """The check below covers the provisioning bodies and every admin create and patch body."""
    names = {body.__name__ for body, _ in command_bodies()}
    expected = {
        "ProvisionJitBody",
        "ProvisionTokenBody",
        "CreateUserBody",
        "UpdateUserBody",
        "CreateTeamBody",
        "UpdateTeamBody",
        "CreateClientBody",
        "UpdateClientBody",
    }
    assert expected <= names


# Bodies whose one or two fields a handler passes to the service as arguments, not as a command.
ARGUMENT_BODIES = {"AddMemberBody", "DisableClientBody", "PolicyCheckBody", "ReasonBody"}


def test_every_request_class_is_a_command_body_or_a_known_argument_body() -> None:
    """A new body either declares its command (and is checked below) or is listed here."""
    with_command = {body.__name__ for body, _ in command_bodies()}
    without = {cls.__name__ for cls in request_classes()} - with_command
    assert ARGUMENT_BODIES == without


@pytest.mark.parametrize(
    ("body", "command"), command_bodies(), ids=lambda cls: getattr(cls, "__name__", "")
)
def test_every_body_field_is_a_parameter_of_its_command(
    body: type[attrs.AttrsInstance], command: type[Any]
) -> None:
    """``to_command`` passes each body field by name, so its command must take every one."""
    parameters = set(inspect.signature(command).parameters)
    assert set() == {field.name for field in attrs.fields(body)} - parameters


@attrs.frozen
class _Rename:
    """A command of the tests."""

    name: str


@attrs.frozen
class _RenameBody:
    """A body with one field more than its command takes."""

    name: str
    colour: str = "red"


def test_to_command_refuses_a_body_field_the_command_does_not_take() -> None:
    """A field with no place in the command is an error, never silently dropped."""
    with pytest.raises(TypeError, match="colour"):
        to_command(_RenameBody(name="web"), _Rename)


def test_patch_bodies_pass_left_out_and_null_fields_through_unchanged() -> None:
    """Left-out fields stay the core's ``UNSET``; a ``null`` the client sent stays ``None``."""
    expected = (UpdateUser(), UpdateTeam(max_runners=None), UpdateClient(team="ml"))
    actual = (
        UpdateUserBody().command(),
        UpdateTeamBody(max_runners=None).command(),
        UpdateClientBody(team="ml").command(),
    )
    assert expected == actual


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a\x00b"},
        {"name": "ok", "required_labels": ["x\x00"]},
    ],
)
def test_a_nul_character_in_any_text_field_is_refused_naming_the_field(
    body: dict[str, Any],
) -> None:
    """A NUL anywhere in a body's text is a VALIDATION_ERROR, not a 500 from the database."""
    with pytest.raises(ValidationFailed) as refused:
        structure(body, CreateTeamBody)
    assert ["must not contain a NUL character"] == list(refused.value.field_errors.values())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "is nested too deeply"),
        (
            b'{"name": "\\ud800"}',
            "contains a lone surrogate escape (\\ud800-\\udfff), which is not text",
        ),
    ],
    ids=["deeply-nested", "lone-surrogate"],
)
def test_json_that_is_not_text_or_too_deep_is_refused(raw: bytes, expected: str) -> None:
    """Deep nesting and lone surrogates are VALIDATION_ERRORs, never a RecursionError or a 500."""
    with pytest.raises(ValidationFailed) as refused:
        decode_json(raw)
    assert {"body": expected} == refused.value.field_errors
