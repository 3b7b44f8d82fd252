"""Requests made by schemathesis from the service's own OpenAPI document, sent as every role.

Used by ``test_server_schemathesis.py`` (a few cases per operation, in the suite) and by
``bench/schemathesis_api.py`` (many). Each generated request (valid ones, and invalid ones made
to break the schema) is sent once per caller, with the real operation's id in its path, through
the service's own test client. What must hold, whoever asks and whatever they send:

* no answer is a server error (5xx);
* the answer is one the document lists for the operation, and its body matches the listed
  schema (schemathesis's status and response-schema checks): every error in the one shape;
* every error answer is ``{"error": {status, code, message, where, hint, details}}`` with the
  answer's own status.

Operations that change who may do what or end the operation (closing it, disabling users,
revoking devices, changing a password) run last, so that they do not hide the others.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from server.conftest import World

CHECKS = [status_code_conformance, response_schema_conformance]
ROLES = ("coordinator", "registrar", "checkpoint_marshal", "observer")
SHAPE = {"status", "code", "message", "where", "hint", "details"}
# Run after the others: they change the world the others need.
LAST = (
    ("POST", "/api/auth/password"),
    ("POST", "/api/users/{username}/disable"),
    ("POST", "/api/operations/{operation_id}/devices/{device_id}/revoke"),
    ("DELETE", "/api/operations/{operation_id}/members/{username}"),
    ("POST", "/api/operations/{operation_id}/purge"),
    ("PATCH", "/api/operations/{operation_id}"),
)


@dataclass
class Tally:
    """What the run sent and saw: answers by operation and status, and every failure."""

    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.answers.values())


def _order(label: tuple[str, str]) -> int:
    return LAST.index(label) + 1 if label in LAST else 0


def _request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A request as schemathesis describes it (requests' arguments) as httpx arguments."""
    out: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": {k: v for k, v in kwargs.get("headers", {}).items() if k.lower() != "authorization"},
        "params": kwargs.get("params") or None,
    }
    if "json" in kwargs:
        out["content"] = json.dumps(kwargs["json"], allow_nan=True).encode()
        out["headers"]["Content-Type"] = out["headers"].get("Content-Type", "application/json")
    data = kwargs.get("data")
    if isinstance(data, (bytes, str)):
        out["content"] = data if isinstance(data, bytes) else data.encode()
    elif isinstance(data, dict):
        out["data"] = {k: v if isinstance(v, (str, bytes)) else json.dumps(v) for k, v in data.items()}
    files = kwargs.get("files")
    if files:
        out["files"] = [(name, _part(part)) for name, part in files]
    return out


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return (value if isinstance(value, str) else json.dumps(value)).encode()


def _part(part: Any) -> tuple[Any, ...]:
    """A multipart part as httpx takes it: (file name, bytes[, media type])."""
    if not isinstance(part, tuple):
        return (None, _bytes(part))
    return (part[0], _bytes(part[1]), *part[2:])


def _shape_problem(answer: httpx.Response) -> str | None:
    """What is wrong with an error answer's body, or None."""
    try:
        body = answer.json()
    except ValueError:
        return "the error body is not JSON"
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return "the error body is not {'error': {...}}"
    error = body["error"]
    if set(error) != SHAPE:
        return f"the error has the fields {sorted(error)}"
    if error["status"] != answer.status_code or not error["message"]:
        return "the error's status or message is wrong"
    return None


def fuzz(
    world: World,
    *,
    examples: int,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    on_operation: Callable[[str, Tally], None] | None = None,
    derandomize: bool = True,
) -> Tally:
    """Send ``examples`` generated requests per operation and mode, each as every role (the same
    requests at every run unless ``derandomize`` is false)."""
    document = world.client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    operations.sort(key=lambda o: _order((o.method.upper(), o.path)))
    callers = {role: world.as_role(role) for role in ROLES}
    tally = Tally()
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        who = dict(callers)
        if operation.path.endswith(("/events", "/events/batch")):
            who["scanner"] = world.device
        for mode in modes:
            _run(
                operation.as_strategy(generation_mode=mode),
                examples,
                partial(_send, world, who, label, tally),
                derandomize=derandomize,
            )
        if on_operation is not None:
            on_operation(label, tally)
    return tally


def _run(strategy: Any, examples: int, send: Callable[[Any], None], *, derandomize: bool) -> None:
    """Send ``examples`` cases drawn from ``strategy``."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def test(case: Any) -> None:
        send(case)

    with suppress(Unsatisfiable):  # nothing in the operation can be made invalid (no parameters)
        test()


def _send(world: World, who: dict[str, dict[str, str]], label: str, tally: Tally, case: Any) -> None:
    if "operation_id" in case.path_parameters:
        case.path_parameters["operation_id"] = world.operation_id
    request = _request(case.as_transport_kwargs(base_url="http://testserver"))
    for caller, headers in who.items():
        answer = world.client.request(**{**request, "headers": {**request["headers"], **headers}})
        tally.answers[(label, answer.status_code)] += 1
        where = f"{label} as {caller}: {answer.status_code}"
        if answer.status_code >= 500:
            tally.failures.append(f"{where} {answer.text[:300]}")
            continue
        if answer.status_code >= 400 and (problem := _shape_problem(answer)):
            tally.failures.append(f"{where} {problem}: {answer.text[:200]}")
            continue
        answer.request.read()  # a multipart body was streamed: keep it for the checks' report
        try:
            case.validate_response(answer, checks=CHECKS, headers=request["headers"])
        except (Exception, BaseExceptionGroup) as failure:  # schemathesis names what does not conform
            tally.failures.append(f"{where} {str(failure)[:400]}")
