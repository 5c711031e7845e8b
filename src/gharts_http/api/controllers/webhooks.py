"""``POST /api/v1/webhooks/github``: GitHub ``workflow_job`` deliveries, HMAC-verified.

The endpoint is anonymous: the ``X-Hub-Signature-256`` HMAC of the raw body with the configured
secret is the authentication. Without a secret the endpoint does not exist (404, the body of an
unknown route). A missing or wrong signature is a 401 and a security event. Only then is the body
parsed: ``ping`` answers ``pong``, events other than ``workflow_job`` are ``ignored``, and
``workflow_job`` deliveries go to :class:`~gharts_core.services.webhook.WebhookService`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs

from litestar import Controller, Request, post
from litestar.exceptions import NotFoundException
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import HeaderParameter

from gharts_core.errors import ErrorCode, InvalidToken, ValidationFailed
from gharts_core.services.webhook import WebhookOutcome, WorkflowJobAction, WorkflowJobEvent
from gharts_http.api.converters import decode_json
from gharts_http.api.dependencies import RateLimitsDep, ServicesDep
from gharts_http.api.errors import NO_BEARER_CHALLENGE, TransportErrorCode, error_responses
from gharts_http.api.schemas.common import StatusBody

E = ErrorCode
SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"
_SIGNATURE_PREFIX = "sha256="
_MAX_DELIVERY_ID = 100  # the length of the stored delivery id column
_ACTIONS = frozenset(action.value for action in WorkflowJobAction)


def signature_of(secret: str, body: bytes) -> str:
    """Return the ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _SIGNATURE_PREFIX + digest


def _signature_problem(secret: str, body: bytes, header: str | None) -> str | None:
    """Return why the signature fails (``missing``, ``malformed``, ``mismatch``), or ``None``."""
    if not header:
        return "missing"
    if not header.startswith(_SIGNATURE_PREFIX):
        return "malformed"
    expected = signature_of(secret, body).encode()
    return None if hmac.compare_digest(expected, header.strip().encode()) else "mismatch"


def _payload(request: Request[Any, Any, Any], body: bytes) -> Mapping[str, Any]:
    """Parse a JSON body, or the ``payload`` field of a form-encoded one."""
    raw: bytes | str = body
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        fields = parse_qs(body.decode("utf-8", errors="replace"))
        if "payload" not in fields:
            raise ValidationFailed({"payload": "is required in a form-encoded delivery"})
        raw = fields["payload"][0]
    data = decode_json(raw)
    if not isinstance(data, dict):
        raise ValidationFailed({"body": "must be a JSON object"})
    return data


class _Fields:
    """Typed reads of a GitHub payload, collecting one sentence per bad field."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def _get(self, path: str, *, required: bool) -> Any:
        value: Any = self.data
        for key in path.split("."):
            if not isinstance(value, Mapping) or value.get(key) is None:
                if required:
                    self.errors[path] = "is required"
                return None
            value = value[key]
        return value

    def text(self, path: str, *, required: bool = True) -> str | None:
        value = self._get(path, required=required)
        if value is not None and not isinstance(value, str):
            self.errors[path] = "must be a string"
            return None
        return value

    def integer(self, path: str, *, required: bool = True) -> int | None:
        value = self._get(path, required=required)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            self.errors[path] = "must be an integer"
            return None
        return value

    def texts(self, path: str) -> tuple[str, ...]:
        value = self._get(path, required=False)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.errors[path] = "must be a list of strings"
            return ()
        return tuple(value)


def workflow_job_event(delivery_id: str, data: Mapping[str, Any]) -> WorkflowJobEvent | None:
    """Return the event (``None`` for an unknown action), or raise ``ValidationFailed``."""
    fields = _Fields(data)
    action = fields.text("action")
    repository = fields.text("repository.full_name")
    run_id = fields.integer("workflow_job.run_id")
    job_id = fields.integer("workflow_job.id")
    labels = fields.texts("workflow_job.labels")
    runner_id = fields.integer("workflow_job.runner_id", required=False)
    runner_name = fields.text("workflow_job.runner_name", required=False)
    if fields.errors or action is None or repository is None or run_id is None or job_id is None:
        raise ValidationFailed(fields.errors)
    if action not in _ACTIONS:
        return None
    return WorkflowJobEvent(
        delivery_id=delivery_id,
        action=WorkflowJobAction(action),
        repository=repository,
        run_id=run_id,
        job_id=job_id,
        labels=labels,
        runner_id=runner_id,
        runner_name=runner_name,
    )


def _delivery_id(header: str | None) -> str:
    delivery_id = (header or "").strip()
    if not delivery_id:
        raise ValidationFailed({DELIVERY_HEADER: "is required"})
    if len(delivery_id) > _MAX_DELIVERY_ID:
        raise ValidationFailed({DELIVERY_HEADER: f"must be at most {_MAX_DELIVERY_ID} characters"})
    return delivery_id


def _header(name: str, description: str) -> Any:
    return HeaderParameter(name=name, description=description, required=False)


Signature = Annotated[str | None, _header(SIGNATURE_HEADER, "sha256=<HMAC-SHA256 of the body>.")]
EventName = Annotated[str | None, _header(EVENT_HEADER, "The event, e.g. workflow_job or ping.")]
DeliveryId = Annotated[
    str | None, _header(DELIVERY_HEADER, "The delivery's id; required for workflow_job.")
]


@dataclass
class _WebhookOperation(Operation):
    """The webhook's OpenAPI operation: the body is GitHub's event payload, read raw."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT))},
            description="GitHub's payload for the event named in X-GitHub-Event.",
            required=True,
        )


class WebhookController(Controller):
    """``/api/v1/webhooks``: anonymous, authenticated by the delivery's HMAC signature."""

    path = "/api/v1/webhooks"
    tags = ["webhooks"]

    @post(
        "/github",
        status_code=200,
        operation_class=_WebhookOperation,
        opt={NO_BEARER_CHALLENGE: True},
        summary="Receive a GitHub webhook delivery",
        description="workflow_job events keep runner status current: in_progress marks the "
        "runner busy and re-checks its labels, completed retires it. The X-Hub-Signature-256 "
        "header is mandatory; X-GitHub-Delivery de-duplicates redeliveries. Answers status "
        "processed, ignored, duplicate, or pong for a ping. 404 when no webhook secret is "
        "configured.",
        responses=error_responses(
            E.INVALID_TOKEN,
            E.VALIDATION_ERROR,
            TransportErrorCode.NOT_FOUND,
            E.SERVICE_UNAVAILABLE,
            E.GITHUB_RATE_LIMITED,
            E.GITHUB_UNAVAILABLE,
        ),
    )
    async def github(
        self,
        *,
        request: Request[Any, Any, Any],
        services: ServicesDep,
        rate_limits: RateLimitsDep,
        signature: Signature = None,
        event_name: EventName = None,
        delivery: DeliveryId = None,
    ) -> StatusBody:
        """Verify the signature, then apply a ``workflow_job`` event."""
        secret = services.settings.github.webhook_secret
        if not secret:
            raise NotFoundException  # the answer of an unknown route: the endpoint is off
        body = await request.body()
        problem = _signature_problem(secret, body, signature)
        if problem is not None:
            source = request.client.host if request.client else ""
            if rate_limits.may_record_forged_webhook(source):
                await services.webhooks.record_forged_delivery(
                    {
                        "delivery_id": delivery or "",
                        "event": event_name or "",
                        "source_ip": source,
                        "reason": problem,
                    }
                )
            raise InvalidToken("Webhook signature does not match.", reason=f"signature_{problem}")
        if event_name == "ping":
            return StatusBody(status="pong")
        if event_name != "workflow_job":
            return StatusBody(status=WebhookOutcome.IGNORED.value)
        event = workflow_job_event(_delivery_id(delivery), _payload(request, body))
        if event is None:
            return StatusBody(status=WebhookOutcome.IGNORED.value)
        outcome = await services.webhooks.handle(event)
        if outcome is WebhookOutcome.PROCESSED:
            services.sync_requests.request()
        return StatusBody(status=outcome.value)
