"""A Litestar DTO that decodes request bodies with the edge's cattrs converter.

Litestar's own decoding (msgspec) ignores unknown keys; routing bodies through
:func:`gharts_http.api.converters.structure` keeps one set of rules for every request, while
Litestar still documents the attrs class in the OpenAPI document. A ``PATCH`` body (fields typed
``T | Unset``) is documented as the client sends it: every field optional, typed ``T``, with the
``description`` of its ``attrs.field(metadata=...)``.
"""

from __future__ import annotations

import typing
from collections.abc import Generator
from typing import Any, Generic, TypeVar

import attrs
from litestar.dto import AbstractDTO
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.openapi.spec import Reference, Schema
from litestar.params import KwargDefinition
from litestar.typing import FieldDefinition

from gharts_http.api.converters import decode_json, is_patch_field, structure, without_unset
from gharts_http.api.errors import UnsupportedMediaType

T = TypeVar("T")


def is_json_media_type(content_type: str) -> bool:
    """Whether a ``Content-Type`` names JSON: ``application/json`` or a ``+json`` type."""
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class CattrsBody(AbstractDTO[T], Generic[T]):
    """Use as ``dto=CattrsBody[RequestClass]``; the handler receives a structured instance."""

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        """Not used: cattrs, not Litestar's DTO backend, builds the instance."""
        raise NotImplementedError

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        """Nested attrs classes are handled by cattrs, not by the DTO machinery."""
        del field_definition
        return False

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        """No Litestar backend is needed; decoding happens in :meth:`decode_bytes`."""

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Reference | Schema:
        """Document the attrs class itself (a ``PATCH`` body as the client sends it)."""
        del handler_id
        model = field_definition.annotation
        schema: Reference | Schema
        if attrs.has(model) and any(map(is_patch_field, typing.get_type_hints(model).values())):
            schema = _patch_schema(
                field_definition, model, typing.get_type_hints(model), schema_creator
            )
        else:
            schema = schema_creator.for_field_definition(field_definition)
        # Closed, as the converter is: unknown keys are refused.
        registry = schema_creator.schema_registry
        registry.get_schema_for_field_definition(field_definition).additional_properties = False
        return schema

    def decode_bytes(self, value: bytes) -> Any:
        """Parse JSON and structure it with the edge converter; other media types get 415."""
        content_type = self.asgi_connection.headers.get("content-type", "")
        if value and not is_json_media_type(content_type):
            raise UnsupportedMediaType(
                f"The body must be application/json (got {content_type or 'no Content-Type'})."
            )
        return structure(decode_json(value), self.model_type)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        """Structure already-parsed JSON with the edge converter."""
        return structure(value, self.model_type)


def _patch_schema(
    field_definition: FieldDefinition,
    model: type[attrs.AttrsInstance],
    hints: dict[str, Any],
    schema_creator: Any,
) -> Reference | Schema:
    fields = attrs.fields(model)
    schema: Schema = schema_creator.create_component_schema(
        field_definition,
        required=sorted(field.name for field in fields if field.default is attrs.NOTHING),
        property_fields={
            field.name: FieldDefinition.from_kwarg(
                without_unset(hints[field.name]),
                field.name,
                kwarg_definition=KwargDefinition(description=field.metadata.get("description")),
            )
            for field in fields
        },
    )
    reference: Reference | None = schema_creator.schema_registry.get_reference_for_field_definition(
        field_definition
    )
    return reference or schema
