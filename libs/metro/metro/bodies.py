"""Uploaded files read with their size limit enforced while reading: a body past the limit is answered 413 as soon
as the limit is passed (at once when its Content-Length says so), and the rest is never read into memory."""
from __future__ import annotations

from fastapi import Request

from metro.errors import PayloadTooLarge


async def read_limited(request: Request, limit: int, *, code: str = PayloadTooLarge.code,
                       what: str = "the request body") -> bytes:
    too_large = PayloadTooLarge(f"{what} is larger than {limit} bytes", code=code)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
