"""The OAuth2 client-credentials token of GRDF's authorisation server."""
from __future__ import annotations

import datetime as dt
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..gateway import ApiError, State, outage_error

TOKEN_PATH = "/oauth2/aus5y2ta2uEHjCWIR417/v1/token"
SCOPES = ("/adict/v2", "/adict/bas/v6")

router = APIRouter()


@router.post(TOKEN_PATH)
async def token(request: Request, sandbox: State) -> JSONResponse:
    if (error := outage_error(sandbox)) is not None:
        raise error
    form = await request.form()
    if form.get("grant_type") != "client_credentials":
        raise ApiError(400, {"error": "unsupported_grant_type",
                             "error_description": "The authorization grant type is not supported."})
    if (form.get("client_id") != sandbox.config.client_id
            or not secrets.compare_digest(str(form.get("client_secret", "")), sandbox.config.client_secret)):
        raise ApiError(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
    scope = str(form.get("scope") or "")
    if scope not in SCOPES:
        raise ApiError(400, {"error": "invalid_scope",
                             "error_description": "One or more scopes are not configured."})
    access_token = secrets.token_urlsafe(32)
    ttl = sandbox.config.token_ttl_seconds
    sandbox.tokens[access_token] = (sandbox.config.client_id, sandbox.now() + dt.timedelta(seconds=ttl))
    return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": ttl - 1,
                         "scope": scope})
