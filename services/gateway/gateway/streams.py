"""A service's streamed answer (an export, a spreadsheet) passed on to the browser as it arrives; a refusal
(unknown meter, bad period) answers as the service gave it."""
from __future__ import annotations

import contextlib
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import StreamingResponse

from metro.errors import AppError
from metro.service_auth import Principal


async def pass_through(request: Request, service: str, method: str, path: str, *, principal: Principal,
                       media_type: str, filename: str, **kwargs: Any) -> StreamingResponse:
    stack = contextlib.AsyncExitStack()
    upstream = await stack.enter_async_context(request.app.state.runtime.services.stream(
        service, method, path, principal=principal, **kwargs))
    if upstream.status_code != 200:
        body = await upstream.read()
        await stack.aclose()
        try:
            error = orjson.loads(body)
            raise AppError(error["detail"], code=error["error"], status_code=upstream.status_code)
        except (ValueError, KeyError, TypeError):
            raise AppError(f"{service} could not export", code="export_incomplete", status_code=502) from None

    async def body():
        async with stack:
            async for chunk in upstream.chunks():
                yield chunk
    return StreamingResponse(body(), media_type=media_type,
                             headers={"content-disposition": f'attachment; filename="{filename}"'})
