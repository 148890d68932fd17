"""Issue 18 item 8: an upload past its limit is answered 413 with a stable code as soon as the limit is passed;
the rest of the body is never read."""
from __future__ import annotations

from fastapi import FastAPI, Request

from metro.bodies import read_limited
from metro.errors import install_error_handlers

LIMIT, CHUNK = 2_000_000, 64 * 1024

app = FastAPI()
install_error_handlers(app)


@app.put("/upload")
async def upload(request: Request):
    return {"bytes": len(await read_limited(request, LIMIT, code="tariff_csv_too_large", what="the tariff file"))}


async def put(total: int, *, declared: bool = False) -> tuple[int, bytes, int]:
    """Sends ``total`` bytes in chunks as a client would (chunked, or with its Content-Length); returns the status,
    the response body and how many bytes the application pulled."""
    pulled, sent = 0, []
    headers = [(b"content-length", str(total).encode())] if declared else [(b"transfer-encoding", b"chunked")]

    async def receive():
        nonlocal pulled
        size = min(CHUNK, total - pulled)
        pulled += size
        return {"type": "http.request", "body": b"x" * size, "more_body": pulled < total}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "PUT", "path": "/upload",
             "raw_path": b"/upload", "query_string": b"", "headers": headers, "scheme": "http",
             "server": ("test", 80), "client": ("test", 1), "root_path": ""}
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, pulled


async def test_a_file_within_the_limit_is_read_whole():
    status, body, pulled = await put(LIMIT)
    assert status == 200 and body == b'{"bytes":2000000}' and pulled == LIMIT


async def test_a_streamed_body_past_the_limit_is_refused_without_reading_the_rest():
    status, body, pulled = await put(200 * 1024 * 1024)
    assert status == 413 and b'"error":"tariff_csv_too_large"' in body
    assert pulled <= LIMIT + CHUNK, "reading stopped at the first chunk past the limit"


async def test_a_declared_length_past_the_limit_is_refused_before_reading():
    status, body, pulled = await put(LIMIT + 1, declared=True)
    assert (status, pulled) == (413, 0) and b"tariff_csv_too_large" in body
