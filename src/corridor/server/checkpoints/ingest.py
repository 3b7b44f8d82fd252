"""The scan endpoints' hot path: storing events, and a lean route class that answers them.

Scanners send one request per scan, so these two endpoints carry nearly all of the service's
load. FastAPI's general request handling (dependency solving, validation of a parsed dict,
serialisation through the response model) costs about as much CPU per request as storing the event
itself. :class:`ScanRoute` is documented in the OpenAPI schema like any other route (from its
endpoint's signature), but answers a request that carries a bearer token with a plain ASGI handler
that does the same things in fewer steps:

* the caller comes from the same access rule as every route (:func:`deps.authorized`, with its
  short-lived cache of device tokens);
* the body is parsed and validated in one step by pydantic from the raw JSON bytes;
* errors are raised, not rendered, so the app's handlers answer them in the one JSON error shape
  (a validation error names its fields ``body.<field>`` exactly as FastAPI's own would);
* the answer is sent only after the writer's group has committed.

Requests without a bearer token (a browser session with its cookie and CSRF token, or no
credentials at all) go through the ordinary FastAPI path of the same route.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pydantic_core
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.types import Receive, Scope, Send

from corridor.server.auth import Actor
from corridor.server.checkpoints import service
from corridor.server.checkpoints.clock import ClockRules
from corridor.server.checkpoints.schemas import (
    BatchIn,
    EventIn,
    EventProblem,
    EventResult,
    SingleEventIn,
    StrictBatchIn,
)
from corridor.server.columns import utc_now
from corridor.server.deps import authorized, bearer_token
from corridor.server.errors import TooLargeError
from corridor.server.ledger import service as ledger
from corridor.server.runtime import Runtime

ACTION = "events.write"
_JSON_HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class Stored:
    """What a scan endpoint answers: the HTTP status and the body, a response model or (for a
    batch, where making one model per event cost more than storing the event) the model's fields
    as plain JSON values."""

    status: int
    body: BaseModel | dict[str, Any]

    def json(self) -> bytes:
        if isinstance(self.body, BaseModel):
            return self.body.__pydantic_serializer__.to_json(self.body)
        return pydantic_core.to_json(self.body)


async def store_event(runtime: Runtime, operation_id: str, actor: Actor, body: EventIn) -> Stored:
    """Store one event: 201 stored, 200 a harmless repeat; a conflict or invalid event is raised
    (409, 422). Returns once the event is committed. The device's clock, when sent with it
    (:class:`SingleEventIn`), updates its offset as a batch's does."""
    device_now = getattr(body, "device_now", None)
    [item] = await record(runtime, operation_id, actor, [body], device_now=device_now)
    if item.error is not None:
        raise item.error
    status = 200 if item.outcome is ledger.Outcome.REPEAT else 201
    return Stored(status, result_of(item))


async def store_batch(runtime: Runtime, operation_id: str, actor: Actor, body: BatchIn) -> Stored:
    """Store a batch: each event gets its own outcome, in the order sent; the valid ones are
    stored even when others conflict or are rejected (by their schema, their date or the ledger's
    rules). Returns once the batch is committed."""
    if len(body.events) > runtime.settings.max_batch:
        raise TooLargeError(
            f"{len(body.events)} events in one batch; at most {runtime.settings.max_batch}",
            where="events",
            hint="send the events in several batches",
        )
    results: list[dict[str, Any] | None] = [None] * len(body.events)
    valid: list[EventIn] = []
    places: list[int] = []
    for index, entry in enumerate(body.events):
        if isinstance(entry, EventProblem):
            results[index] = _rejected(index, entry.event_id, entry.message, entry.where, _SCHEMA_HINT)
            continue
        valid.append(entry)
        places.append(index)
    device_now = getattr(body, "device_now", None)
    items = await record(runtime, operation_id, actor, valid, device_now=device_now) if valid else []
    for index, item in zip(places, items, strict=True):
        results[index] = {
            **_plain_result(item),
            "flagged": _FLAGGED if item.clock_flag else None,
            "index": index,
        }
    done = [r for r in results if r is not None]
    outcomes = [r["outcome"] for r in done]
    out = {  # BatchOut's fields (post_batch makes the model from them)
        "stored": outcomes.count(ledger.Outcome.STORED.value),
        "repeats": outcomes.count(ledger.Outcome.REPEAT.value),
        "conflicts": outcomes.count(ledger.Outcome.CONFLICT.value),
        "rejected": outcomes.count(ledger.Outcome.REJECTED.value),
        "results": done,
    }
    return Stored(200, out)


# What a batch's result says of an event stored but dated past belief (its device's clock).
_FLAGGED = "clock"
_SCHEMA_HINT = "correct this event and send it again; the batch's other events were handled"


def _rejected(
    index: int, event_id: str | None, message: str, where: str | None, hint: str | None
) -> dict[str, Any]:
    return {  # in BatchEventResult's order of fields
        "event_id": event_id,
        "outcome": ledger.Outcome.REJECTED.value,
        "position": None,
        "message": message,
        "where": where,
        "hint": hint,
        "flagged": None,
        "index": index,
    }


async def record(
    runtime: Runtime,
    operation_id: str,
    actor: Actor,
    bodies: list[EventIn],
    *,
    device_now: datetime | None = None,
) -> list[ledger.AppendResult]:
    """Hand the events to the ledger writer and wait, without holding a thread, for the commit.

    No event is refused for its date: one dated past belief (its device's clock offset taken
    off) is stored and flagged, and placed where it cannot hide an alarm
    (:mod:`corridor.ops.clock`); ``device_now``, the device's clock as it sent them, updates the
    device's offset."""
    settings = runtime.settings
    rules = ClockRules(
        ahead=timedelta(minutes=settings.clock_skew_minutes),
        behind=timedelta(days=settings.clock_behind_days),
    )
    request = service.EventRequest(operation_id, actor, bodies, device_now, utc_now(), rules)
    return await asyncio.wrap_future(runtime.writer.submit(request, size=len(bodies)))


def _plain_result(item: ledger.AppendResult) -> dict[str, Any]:
    """EventResult's fields for ``item`` in plain JSON values (a batch answers with these
    without making a model per event; :func:`result_of` makes the model)."""
    error = item.error
    return {
        "event_id": item.event_id,
        "outcome": item.outcome.value,
        "position": item.position,
        "message": error.message if error else None,
        "where": error.where if error else None,
        "hint": error.hint if error else None,
    }


def result_of(item: ledger.AppendResult) -> EventResult:
    return EventResult(**_plain_result(item))


class ScanRoute(APIRoute):
    """A route documented from its endpoint, answered by a lean handler for bearer-token callers.

    Subclasses name the request model and the function that stores it.
    """

    model: ClassVar[type[BaseModel]]

    async def store(self, runtime: Runtime, operation_id: str, actor: Actor, body: Any) -> Stored:
        raise NotImplementedError

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        token = bearer_token(headers.get(b"authorization", b"").decode("latin-1"))
        if scope["method"] != "POST" or token is None:
            await super().handle(scope, receive, send)
            return
        runtime: Runtime = scope["app"].state.runtime
        operation_id: str = scope["path_params"]["operation_id"]
        actor = await authorized(runtime, token, action=ACTION, operation_id=operation_id, path=scope["path"])
        body = await _read_body(receive)
        if body is None:
            return  # the client went away before sending its request
        parsed = self._parse(headers.get(b"content-type", b""), body, runtime)
        stored = await self.store(runtime, operation_id, actor, parsed)
        data = stored.json()
        headers_out = [*_JSON_HEADERS, (b"content-length", str(len(data)).encode("ascii"))]
        await send({"type": "http.response.start", "status": stored.status, "headers": headers_out})
        await send({"type": "http.response.body", "body": data})

    def _parse(self, content_type: bytes, body: bytes, runtime: Runtime) -> BaseModel:
        """The request model from the raw JSON, or a RequestValidationError naming each field."""
        if not _is_json(content_type):
            raise RequestValidationError(
                [
                    {
                        "type": "content_type",
                        "loc": ("body",),
                        "msg": "send the body as JSON with Content-Type: application/json",
                        "input": None,
                    }
                ]
            )
        try:
            return type(self).model.model_validate_json(body)
        except ValidationError as exc:
            problems = exc.errors(include_url=False, include_context=False)
            raise RequestValidationError([{**p, "loc": ("body", *p["loc"])} for p in problems]) from None


def _is_json(content_type: bytes) -> bool:
    """True for application/json and application/*+json (with any parameters), as FastAPI reads
    a JSON body."""
    kind = content_type.split(b";", 1)[0].strip().lower()
    if not kind.startswith(b"application/"):
        return False
    subtype = kind[len(b"application/") :]
    return subtype == b"json" or subtype.endswith(b"+json")


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class EventRoute(ScanRoute):
    """``POST .../events``: one event per request."""

    model = SingleEventIn

    async def store(self, runtime: Runtime, operation_id: str, actor: Actor, body: Any) -> Stored:
        return await store_event(runtime, operation_id, actor, body)


class BatchRoute(ScanRoute):
    """``POST .../events/batch``: an offline device catching up."""

    model = BatchIn

    def _parse(self, content_type: bytes, body: bytes, runtime: Runtime) -> BaseModel:
        """A batch whose events are all valid in one validation (the usual case); else each
        event on its own (:class:`BatchIn`), once the batch is known not to be too long."""
        if _is_json(content_type):
            try:
                strict = StrictBatchIn.model_validate_json(body)
            except ValidationError:
                _refuse_long(body, runtime.settings.max_batch)
            else:
                return BatchIn.model_construct(events=list(strict.events), device_now=strict.device_now)
        return super()._parse(content_type, body, runtime)

    async def store(self, runtime: Runtime, operation_id: str, actor: Actor, body: Any) -> Stored:
        return await store_batch(runtime, operation_id, actor, body)


def _refuse_long(body: bytes, most: int) -> None:
    """413 for a batch of more than ``most`` events, before each is validated on its own."""
    try:
        data = pydantic_core.from_json(body)
    except ValueError:
        return  # not JSON: the validation names the problem
    events = data.get("events") if isinstance(data, dict) else None
    if isinstance(events, list) and len(events) > most:
        raise TooLargeError(
            f"{len(events)} events in one batch; at most {most}",
            where="events",
            hint="send the events in several batches",
        )
