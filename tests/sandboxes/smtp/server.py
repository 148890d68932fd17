"""The SMTP sink: aiosmtpd accepts everything and writes each message as a .eml file into a folder; a
tiny web page lists them, marking messages that carry a Message-ID already seen (a duplicate delivery)."""
from __future__ import annotations

import asyncio
import html
import itertools
import os
import time
from email import message_from_bytes, policy
from pathlib import Path

import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response


class Sink:
    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._seq = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        name = f"{time.time_ns()}-{os.getpid()}-{next(self._seq):06d}.eml"
        tmp = self.folder / f".{name}.tmp"
        data = envelope.original_content or envelope.content
        tmp.write_bytes(data if isinstance(data, bytes) else data.encode())
        tmp.rename(self.folder / name)  # readers never see half a message
        return "250 Message accepted for delivery"

    def listing(self, to: str | None = None) -> list[dict]:
        """Every message, or those whose raw text names ``to`` (checked before parsing: the folder grows)."""
        seen: dict[str, int] = {}
        out = []
        for path in sorted(self.folder.glob("*.eml")):
            with path.open("rb") as f:
                data = f.read()
            if to is not None and to.encode() not in data:
                continue
            msg = message_from_bytes(data, policy=policy.default)
            mid = str(msg.get("Message-ID", ""))
            seen[mid] = seen.get(mid, 0) + 1
            if to is not None and str(msg.get("To", "")) != to:
                continue
            out.append({"file": path.name, "message_id": mid, "to": str(msg.get("To", "")),
                        "subject": str(msg.get("Subject", "")), "date": str(msg.get("Date", "")),
                        "duplicate": bool(mid) and seen[mid] > 1})
        return out


def web_app(sink: Sink) -> FastAPI:
    app = FastAPI(title="SMTP sink")

    @app.get("/messages")
    def messages(to: str | None = None):
        return sink.listing(to)

    @app.get("/messages/{name}")
    def message(name: str):
        path = sink.folder / name
        if "/" in name or not name.endswith(".eml") or not path.exists():
            raise HTTPException(404, "no such message")
        return Response(path.read_bytes(), media_type="message/rfc822")

    @app.get("/", response_class=HTMLResponse)
    def index():
        rows = "".join(
            f"<tr{' style=background:#fdd' if m['duplicate'] else ''}><td><a href='/messages/{m['file']}'>"
            f"{html.escape(m['file'])}</a></td><td>{html.escape(m['to'])}</td><td>{html.escape(m['subject'])}</td>"
            f"<td>{html.escape(m['message_id'])}{' (duplicate)' if m['duplicate'] else ''}</td></tr>"
            for m in reversed(sink.listing()))
        return (f"<!DOCTYPE html><html><head><meta charset=utf-8><title>SMTP sink</title></head><body>"
                f"<h1>Received e-mails</h1><table border=1 cellpadding=4><tr><th>file</th><th>to</th>"
                f"<th>subject</th><th>Message-ID</th></tr>{rows}</table></body></html>")

    return app


async def serve(host: str, port: int, web_port: int, folder: Path) -> None:
    sink = Sink(folder)
    loop = asyncio.get_running_loop()
    smtp_server = await loop.create_server(
        lambda: SMTP(sink, hostname="smtp-sink.localhost", data_size_limit=50 * 1024 * 1024,
                     enable_SMTPUTF8=True), host, port)
    web = uvicorn.Server(uvicorn.Config(web_app(sink), host=host, port=web_port, log_level="warning",
                                       access_log=False))
    try:
        await web.serve()
    finally:
        smtp_server.close()
        await smtp_server.wait_closed()
