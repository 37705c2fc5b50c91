"""The OpenAPI document and a reference page rendered from it on the server (no CDN, no
script): every operation with its parameters, body, responses and the schemas."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from clause_tracker.permissions import public

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

DESCRIPTION = """\
The JSON API of the Clause Tracker: contracts and grants with their compliance state,
counterparties, declarations, compliance checks and measures, and the returned signed copies.

**Authentication.** Every operation but this document needs an API token:
`Authorization: Bearer ctk_…`. A token belongs to one account (a person's, or a service
account an administrator made) and can do what that account's role may do in that account's
unit, never more; a token with the scope `read` only reads. Browser sessions do not count here.

**Errors** are RFC 9457 problem details (`application/problem+json`); an invalid request
lists each field in `errors` (`pointer` into the body, or `parameter`).

**Lists** are paged (25 a page, `page=`), with `next` in the body and an RFC 8288 `Link` header.

**Updates** need `If-Match` with the `ETag` read (the record's version counter): 428 without
it, 412 if the record changed meanwhile. **Creating** takes an optional `Idempotency-Key`:
the same key again returns the first result and creates nothing.
"""

METHODS = ("get", "post", "put", "patch", "delete")


def spec() -> dict[str, Any]:
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    return api.spec.to_dict()


def _schema_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"[{_schema_name(schema.get('items'))}]"
    return str(schema.get("type", "object"))


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {})
            found.append({
                "id": op.get("operationId") or f"{method}-{path}",
                "method": method.upper(), "path": path,
                "summary": op.get("summary", ""), "description": op.get("description", ""),
                "parameters": [*shared, *op.get("parameters", [])],
                "body": [(media, _schema_name(c.get("schema"))) for media, c in body.items()],
                "responses": [(code, r.get("description", ""),
                               [(media, _schema_name(c.get("schema")))
                                for media, c in r.get("content", {}).items()])
                              for code, r in op.get("responses", {}).items()],
                "public": op.get("security") == [],
            })
    return found


@bp.route("/openapi.json")
@public
def openapi_json():
    """The OpenAPI 3.1 document (no data in it: public, as the code it describes)."""
    response = current_app.json.response(spec())
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/docs")
@public
def docs():
    document = spec()
    schemas = document.get("components", {}).get("schemas", {})
    return render_template("api/reference.html", document=document,
                           operations=operations(document), schemas=schemas,
                           schema_name=_schema_name)
