"""The client-credentials token of the API gateway, and its revocation."""
from __future__ import annotations

import base64
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..gateway import ApiError, Sandbox, json_response, outage

router = APIRouter()


@router.post("/oauth2/v3/token")
async def token(request: Request, state: Sandbox) -> Response:
    if (error := outage(state)) is not None:
        raise error
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise ApiError(400, {"error": "invalid_request", "error_description":
                             "Le Content-Type doit être application/x-www-form-urlencoded"})
    form = await request.form()
    client_id, secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            client_id = secret = None
    if form.get("grant_type") != "client_credentials":
        raise ApiError(400, {"error": "unsupported_grant_type", "error_description":
                             "The authorization grant type is not supported by the authorization server."})
    client = state.clients.get(str(client_id or ""))
    if client is None or not secrets.compare_digest(client.client_secret, str(secret or "")):
        raise ApiError(401, {"error": "invalid_client", "error_description":
                             "Client authentication failed (e.g., unknown client, no client authentication "
                             "included, or unsupported authentication method)."})
    state.counters["tokens_issued"] += 1
    return json_response({"access_token": state.issue_token(client.client_id),
                          "scope": "am_application_scope default", "token_type": "Bearer",
                          "expires_in": state.config.token_ttl_s})


@router.post("/oauth2/v3/revoke")
async def revoke(request: Request, state: Sandbox) -> Response:
    form = await request.form()
    state.revoked_tokens.add(str(form.get("token", "")))
    return json_response({"status_code": 200})
