"""A Litestar DTO that decodes request bodies with the edge's cattrs converter.

Litestar's own decoding (msgspec) ignores unknown keys; routing bodies through
:func:`gharts_http._converters.structure` keeps one set of rules for every request, while
Litestar still documents the attrs class in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Generic, TypeVar

from litestar.dto import AbstractDTO
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.openapi.spec import Reference, Schema
from litestar.typing import FieldDefinition

from gharts_http._converters import decode_json, structure

T = TypeVar("T")


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
        """Document the attrs class itself."""
        del handler_id
        schema: Reference | Schema = schema_creator.for_field_definition(field_definition)
        return schema

    def decode_bytes(self, value: bytes) -> Any:
        """Parse JSON and structure it with the edge converter."""
        return structure(decode_json(value), self.model_type)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        """Structure already-parsed JSON with the edge converter."""
        return structure(value, self.model_type)
