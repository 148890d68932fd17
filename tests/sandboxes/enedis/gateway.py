"""What every Data Connect call shares: the sandbox state, the error shape, the API gateway in front of the data
(auth, quotas, injected faults) and how a body leaves (possibly truncated on request)."""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.responses import Response

from .state import SandboxState

TECHNICAL_ERROR = {"error": "technical_error", "error_description": "Technical error. Please try later."}


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def json_response(body: Any, status: int = 200, media_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)


def v5_error(description: str, code: str = "Invalid_request", status: int = 400) -> ApiError:
    return ApiError(status, {"error": code, "error_description": description})


def v2_error(status: int, message: str) -> ApiError:
    return ApiError(status, {"code": str(status), "message": message})


def sandbox_state(request: Request) -> SandboxState:
    return request.app.state.sandbox


Sandbox = Annotated[SandboxState, Depends(sandbox_state)]


def authenticate(state: SandboxState, request: Request) -> str:
    header = request.headers.get("authorization", "")
    client_id = state.token_client(header[7:].strip()) if header[:7].lower() == "bearer " else None
    if client_id is None:
        raise ApiError(401, {"fault": {
            "code": 900901, "message": "Invalid Credentials",
            "description": "Invalid JWT token. Make sure you have provided the correct security credentials"}})
    return client_id


def throttle_body(kind: str, wait: float) -> tuple[dict[str, Any], dict[str, str]]:
    if kind == "hour":
        # Quotas run on real time (see QuotaWindow), so the instant given back is real time too.
        at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait + 1)
        stamp = at.strftime("%Y-%b-%d %H:%M:%S+0000 UTC")
        return {"code": "900804", "message": "Message throttled out",
                "description": f"You have exceeded your quota .You can access API after {stamp}",
                "nextAccessTime": stamp}, {}
    return {"fault": {"code": 900807, "message": "Message throttled out",
                      "description": "You have exceeded your quota"}}, {}


def outage(state: SandboxState) -> ApiError | None:
    faults = state.faults
    if faults.outage_until is not None and state.clock.now() < faults.outage_until:
        return ApiError(503, {"error": "Service Unavailable",
                              "error_description": "Service unavailable for the moment. Please try later."})
    return None


async def gateway(request: Request, state: Sandbox) -> str:
    """What every data call goes through before the business rules: auth, quotas, injected faults."""
    state.counters["calls"] += 1
    faults = state.faults
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    if (error := outage(state)) is not None:
        raise error
    client_id = authenticate(state, request)
    if faults.fail_next_429:
        faults.fail_next_429 -= 1
        raise ApiError(429, throttle_body("second", 1.0)[0])
    verdict, wait = state.admit(client_id)
    if verdict is not None:
        body, headers = throttle_body(verdict, wait)
        raise ApiError(429, body, headers)
    if faults.fail_next_500:
        faults.fail_next_500 -= 1
        raise ApiError(500, TECHNICAL_ERROR)
    return client_id


Client = Annotated[str, Depends(gateway)]


def finish(state: SandboxState, body: Any, media_type: str = "application/json") -> Response:
    content = orjson.dumps(body)
    if state.faults.truncate_next:
        state.faults.truncate_next -= 1
        content = content[: len(content) // 2]
    return Response(content, media_type=media_type)


async def count_status(request: Request, call_next):
    response = await call_next(request)
    if not request.url.path.startswith("/_sandbox"):
        state = sandbox_state(request)
        state.status_counts[response.status_code] += 1
        if response.status_code == 429:
            state.counters["throttled"] += 1
        elif response.status_code < 300 and not request.url.path.startswith(("/oauth2", "/dataconnect")):
            state.counters["served"] += 1
    return response


async def api_error(_: Request, error: ApiError) -> Response:
    return json_response(error.body, error.status, headers=error.headers)
