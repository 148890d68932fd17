"""The SMTP sink keeps every accepted message as one .eml file and flags repeated Message-IDs."""
from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP
from fastapi.testclient import TestClient

from tests.sandboxes.smtp.server import Sink, web_app


def _send(port: int, message_id: str, to: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "a@example.org", to, "Relevé é", message_id
    msg.set_content("bonjour")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


async def test_each_message_is_one_file_and_a_redelivery_is_flagged(tmp_path):
    sink = Sink(tmp_path)
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(sink, enable_SMTPUTF8=True), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await asyncio.to_thread(_send, port, "<1@example.org>", "r@example.org")
        await asyncio.to_thread(_send, port, "<1@example.org>", "r@example.org")
        await asyncio.to_thread(_send, port, "<2@example.org>", "s@example.org")
    finally:
        server.close()
        await server.wait_closed()
    assert len(list(tmp_path.glob("*.eml"))) == 3
    listing = TestClient(web_app(sink)).get("/messages").json()
    assert [m["duplicate"] for m in listing] == [False, True, False]
    assert listing[0]["subject"] == "Relevé é" and listing[2]["to"] == "s@example.org"
    page = TestClient(web_app(sink)).get("/")
    assert page.status_code == 200 and "(duplicate)" in page.text
