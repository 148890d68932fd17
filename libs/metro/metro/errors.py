"""One error family: each carries its HTTP status and a stable code; one handler renders them."""
from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match


class ErrorBody(BaseModel):
    error: str
    detail: str


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, status_code: int | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.headers = headers


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class AddressUnconfirmed(Conflict):
    """A meter whose DSO address differs from the declared dwelling: its data is shown to nobody until the
    resident confirms it or an administrator clears it (consent's accuracy control)."""
    code = "address_unconfirmed"


class Unauthorized(AppError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"


class Unprocessable(AppError):
    status_code = 422
    code = "invalid_request"


class UpstreamError(AppError):
    status_code = 502
    code = "upstream_unavailable"


class NotReady(AppError):
    """Something the caller has just created is still on its way between the services (a meter declared a moment
    ago that the consumption service has not yet heard of): the same request succeeds after ``Retry-After``."""
    status_code = 503
    code = "not_ready"

    def __init__(self, detail: str, *, code: str | None = None, retry_after_s: int = 2):
        super().__init__(detail, code=code, headers={"Retry-After": str(retry_after_s)})


def error_responses(*errors: type[AppError]) -> dict[int | str, dict]:
    """OpenAPI `responses=` for the errors an endpoint can return."""
    return {e.status_code: {"model": ErrorBody, "description": e.code} for e in errors}


def _validation_code(exc: RequestValidationError) -> tuple[str, str]:
    errors = exc.errors()
    first = errors[0] if errors else {}
    kind = first.get("type", "")
    loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    if kind == "json_invalid":
        return "malformed_json", "the request body is not valid JSON"
    if kind == "extra_forbidden":
        return "unknown_field", f"unknown field: {loc}"
    if kind == "missing":
        return "missing_field", f"missing field: {loc}"
    msg = first.get("msg", "invalid request")
    code = first.get("ctx", {}).get("code") if isinstance(first.get("ctx"), dict) else None
    return code or "invalid_field", f"{loc}: {msg}" if loc else msg


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse({"error": exc.code, "detail": exc.detail}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        code, detail = _validation_code(exc)
        status = 400 if code == "malformed_json" else 422
        return JSONResponse({"error": code, "detail": detail}, status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        headers = exc.headers
        if exc.status_code == 405:
            # Every method of the path (RFC 9110), not only those of the first route Starlette tried.
            methods = {m for route in iter_route_contexts(request.app.routes) if route.methods
                       and route.matches(request.scope)[0] is not Match.NONE for m in route.methods}
            headers = {k: v for k, v in (headers or {}).items() if k.lower() != "allow"}
            headers["allow"] = ", ".join(sorted(methods))
        return JSONResponse({"error": code, "detail": detail}, exc.status_code, headers=headers)


REFUSALS = {
    400: "malformed_json: the body is not JSON",
    401: "not_authenticated, session_expired, ...: no valid session or token",
    403: "csrf_failed, terms_acceptance_required, forbidden_role, ...: not allowed",
    422: "invalid_field, missing_field, unknown_field, or the operation's own code: the request breaks a rule",
}


def document_refusals(app: FastAPI) -> None:
    """The refusals every operation can give, in its OpenAPI, as the handlers above render them: 422 with an
    ErrorBody (not FastAPI's list of errors), 400 where a JSON body is read, 401 and 403 where the operation
    has a security requirement (its authentication dependency)."""
    build = app.openapi
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["ErrorBody"] = ErrorBody.model_json_schema()
        for item in document.get("paths", {}).values():
            for operation in item.values():
                responses = operation["responses"]
                statuses = set()
                if "422" in responses:
                    statuses.add(422)
                if "application/json" in operation.get("requestBody", {}).get("content", {}):
                    statuses.add(400)
                if operation.get("security"):
                    statuses |= {401, 403}
                for status in statuses:
                    current = responses.get(str(status))
                    if current is None or "HTTPValidationError" in json.dumps(current):
                        responses[str(status)] = {"description": REFUSALS[status], **ref}
        for unused in ("HTTPValidationError", "ValidationError"):
            if f"#/components/schemas/{unused}" not in json.dumps(document):
                schemas.pop(unused, None)
        return document
    app.openapi = openapi  # type: ignore[method-assign]
