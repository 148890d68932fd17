"""What every ADICT call shares: the sandbox state, the error shapes, the API gateway in front of the data
(availability, bearer token, injected faults, quotas) and NDJSON bodies (possibly damaged on request)."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
import time
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from . import codes
from .meters import PARIS
from .state import Sandbox


class ApiError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def gda_error(status: int, code: tuple[str, str]) -> ApiError:
    return ApiError(status, {"code_statut_traitement": code[0], "message_retour_traitement": code[1]})


def sandbox_of(request: Request) -> Sandbox:
    return request.app.state.sandbox


State = Annotated[Sandbox, Depends(sandbox_of)]


async def api_error(_: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


def outage_error(sandbox: Sandbox) -> ApiError | None:
    until = sandbox.faults.outage_until
    if until is not None and sandbox.now() < until:
        retry = max(1, math.ceil((until - sandbox.now()).total_seconds()))
        return ApiError(503, {"error": "service_unavailable",
                              "message": "Service en maintenance, veuillez réessayer ultérieurement."},
                        {"Retry-After": str(retry)})
    return None


async def gate(request: Request, sandbox: State) -> str:
    """What the API gateway does before any ADICT handler: availability, bearer token, faults, quotas."""
    if (error := outage_error(sandbox)) is not None:
        raise error
    header = request.headers.get("authorization")
    if not header:
        raise gda_error(401, codes.UNAUTHORISED)
    scheme, _, value = header.partition(" ")
    if scheme != "Bearer" or not value:
        raise ApiError(400, {"error": "invalid_request", "message": "En-tête Authorization mal formé."})
    known = sandbox.tokens.get(value)
    if known is None or known[1] <= sandbox.now():
        raise gda_error(401, codes.UNAUTHORISED)
    client = known[0]
    faults = sandbox.faults
    if faults.take("http_500"):
        raise ApiError(500, {"code_statut_traitement": codes.TECHNICAL[0],
                             "message_retour_traitement": codes.TECHNICAL[1]})
    if faults.take("http_429"):
        raise ApiError(429, {"error": "quota_exceeded", "message": "Trop de requêtes."},
                       {"Retry-After": str(faults.retry_after)})
    rate = sandbox.config.rate_per_second
    mono = time.monotonic()
    if rate:
        elapsed = mono - sandbox.last_call.get(client, -math.inf)
        if elapsed < 1.0 / rate:
            raise ApiError(429, {"error": "quota_exceeded",
                                 "message": f"Limite de {rate:g} appel(s) par seconde dépassée."},
                           {"Retry-After": str(max(1, math.ceil(1.0 / rate - elapsed)))})
    day = sandbox.today()
    cap = sandbox.config.daily_cap
    if cap is not None and sandbox.daily_calls.get((client, day), 0) >= cap:
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), PARIS)
        retry = max(1, math.ceil((midnight - sandbox.now()).total_seconds()))
        raise ApiError(429, {"error": "quota_exceeded", "message": f"Quota journalier de {cap} appels atteint."},
                       {"Retry-After": str(retry)})
    sandbox.last_call[client] = mono
    sandbox.daily_calls[(client, day)] = sandbox.daily_calls.get((client, day), 0) + 1
    if faults.latency_count > 0:
        faults.latency_count -= 1
        await asyncio.sleep(faults.latency_seconds)
    sandbox.expire_pending()
    return client


def dumps(value: Any) -> str:
    """Compact, UTF-8 JSON as ADICT writes its NDJSON lines."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parse_day(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def ndjson(sandbox: Sandbox, lines: list[str], stream_error: str | None = None, stream: bool = True) -> Response:
    """One JSON object per line; the next pending stream fault (if any) damages this body."""
    faults = sandbox.faults
    if stream:
        middle = len(lines) // 2
        if faults.take("truncated"):
            head = "\n".join(lines[:middle])
            cut = lines[middle][: max(1, len(lines[middle]) // 2)]
            return Response((head + "\n" if head else "") + cut, media_type="application/x-ndjson")
        if faults.take("malformed_line"):
            lines = lines[:middle] + [lines[middle].rstrip("}")] + lines[middle + 1:]
        elif stream_error is not None and faults.take("error_in_stream"):
            lines = lines[:middle] + [stream_error] + lines[middle + 1:]
    return Response("\n".join(lines) + "\n", media_type="application/x-ndjson")
