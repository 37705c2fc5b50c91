"""Errors of the API as RFC 9457 problem details (`application/problem+json`).

Every error under /api/ answers so — validation errors with one entry per field, 401 with
`WWW-Authenticate: Bearer`, refused changes with the service's message — whether it was
raised by a view, by the argument parser, by the authentication or by the router (an
unknown path, an id beyond the database's integers). errors.py hands them here.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, current_app, json, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from clause_tracker.idempotency import AlreadySubmitted
from clause_tracker.versioning import EditConflict, RefusedChange

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:clause-tracker:problem:"
LOCATIONS = {"json": "body", "query": "query", "headers": "header", "files": "body",
             "form": "body", "multipart": "body", "view_args": "path"}


class FieldErrorSchema(Schema):
    pointer = fields.String(metadata={"description": "JSON Pointer (RFC 6901) into the body, "
                                                     "for a body field"})
    parameter = fields.String(metadata={"description": "the query or header parameter"})
    detail = fields.String(required=True)


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema),
                         metadata={"description": "one entry per invalid field"})


def problem(status: int, detail: str | None = None, kind: str | None = None,
            title: str | None = None, errors: list[dict[str, str]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind if kind else "about:blank",
        "title": title or _phrase(status),
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body), status=status,
                                          mimetype=MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def unauthorized(detail: str, error: str = "invalid_token") -> Response:
    return problem(401, detail, kind="unauthorized", headers={
        "WWW-Authenticate": f'Bearer realm="clause_tracker", error="{error}"'})


def field_errors(messages: dict[str, Any]) -> list[dict[str, str]]:
    """webargs' messages ({location: {field: [text] | {nested…}}}) as RFC 9457 entries."""
    found: list[dict[str, str]] = []

    def walk(where: str, path: list[str], value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(where, [*path, str(key)], inner)
            return
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, dict):
                walk(where, path, text)
                continue
            if where == "body":
                pointer = "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)
                found.append({"pointer": pointer, "detail": str(text)})
            else:
                found.append({"parameter": ".".join(path), "detail": str(text)})

    for location, fields_ in messages.items():
        walk(LOCATIONS.get(location, location), [], fields_)
    return found


def render(status: int, detail: str, error: Exception | None) -> Response:
    """errors.py's renderer for the API's paths."""
    if isinstance(error, EditConflict):
        return problem(412, detail, kind="edit-conflict")
    if isinstance(error, RefusedChange):
        return problem(409, detail, kind="refused")
    if isinstance(error, AlreadySubmitted):
        return problem(409, detail, kind="already-submitted")
    data = getattr(error, "data", None) if isinstance(error, HTTPException) else None
    if isinstance(data, dict) and "messages" in data:
        return problem(422, "The request has invalid fields.", kind="validation",
                       errors=field_errors(data["messages"]))
    headers = {}
    if isinstance(error, HTTPException):
        response = error.get_response()
        for name in ("Allow", "WWW-Authenticate", "Retry-After"):
            if name in response.headers:
                headers[name] = response.headers[name]
        if status == 401 and "WWW-Authenticate" not in headers:
            headers["WWW-Authenticate"] = 'Bearer realm="clause_tracker"'
    kind = getattr(error, "problem_kind", None)
    return problem(status, detail, kind=kind, headers=headers)
