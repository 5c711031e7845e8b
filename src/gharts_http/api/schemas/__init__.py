"""Request and response bodies of the API: attrs classes, with converters from domain objects.

Request classes are structured by :mod:`gharts_http.api.converters` (unknown keys refused);
response classes are serialised by Litestar and documented in the OpenAPI document. The audit
export's file formats (JSON Lines, CSV) are in :mod:`~gharts_http.audit_export`.
"""
