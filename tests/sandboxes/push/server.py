"""A push service as a browser's vendor runs it (RFC 8030), for one test at a time: it hands out subscriptions
as a browser would get them (an endpoint here, the browser's P-256 key and auth secret), and on each push
checks what a real push service and browser check: the VAPID JWT (RFC 8292: ES256, signed by the key the
browser subscribed with, audience this origin, not expired, a contact) and the aes128gcm payload (RFC 8291),
which it decrypts with the browser's private key. A dropped subscription answers 410 Gone."""
from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field

import http_ece
import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


def b64d(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Browser:
    application_server_key: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    gone: bool = False
    received: list[dict] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class PushService:
    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}
        self.origin = ""
        self.app = FastAPI()
        self.app.post("/push/{sid}")(self.push)

    def subscribe(self, application_server_key: str) -> dict:
        """What `pushManager.subscribe()` resolves to, `toJSON()`-ed."""
        sid = secrets.token_urlsafe(12)
        browser = self.browsers[sid] = Browser(application_server_key)
        point = browser.key.public_key().public_bytes(serialization.Encoding.X962,
                                                      serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": f"{self.origin}/push/{sid}", "expirationTime": None,
                "keys": {"p256dh": b64e(point), "auth": b64e(browser.auth)}}

    def check_vapid(self, header: str, browser: Browser) -> str | None:
        """Why the request's VAPID authorisation is refused, or None."""
        if not header.startswith("vapid "):
            return "no vapid authorization"
        params = dict(p.strip().split("=", 1) for p in header[6:].split(","))
        token, key = params.get("t", ""), params.get("k", "")
        if key != browser.application_server_key:
            return "not the key the browser subscribed with"
        try:
            head, claims, sig = token.split(".")
            if json.loads(b64d(head)).get("alg") != "ES256":
                return "not ES256"
            raw = b64d(sig)
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
            public.verify(encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:])),
                          f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        except (ValueError, InvalidSignature):
            return "bad signature"
        body = json.loads(b64d(claims))
        if body.get("aud") != self.origin:
            return f"audience {body.get('aud')!r} is not {self.origin!r}"
        if not time.time() < body.get("exp", 0) <= time.time() + 24 * 3600:
            return "expired, or valid for more than 24 h"
        if not str(body.get("sub", "")).startswith(("mailto:", "https:")):
            return "no contact"
        return None

    async def push(self, sid: str, request: Request) -> Response:
        browser = self.browsers.get(sid)
        if browser is None or browser.gone:
            return Response(status_code=410)
        why = self.check_vapid(request.headers.get("authorization", ""), browser)
        if why is None and request.headers.get("content-encoding") != "aes128gcm":
            why = "not aes128gcm"
        if why is None and "ttl" not in request.headers:
            why = "no TTL"
        if why is not None:
            browser.refused.append(why)
            return JSONResponse({"reason": why}, status_code=403 if "key" in why or "signature" in why else 400)
        try:
            plain = http_ece.decrypt(await request.body(), private_key=browser.key, auth_secret=browser.auth,
                                     version="aes128gcm")
        except Exception as exc:  # any failure to decrypt is the sender's fault
            browser.refused.append(f"undecryptable: {exc!r}")
            return JSONResponse({"reason": "undecryptable"}, status_code=400)
        browser.received.append(json.loads(plain))
        return Response(status_code=201)


def start() -> tuple[PushService, uvicorn.Server]:
    """Serves a push service on a free local port, in a thread; `server.should_exit = True` stops it."""
    service = PushService()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    service.origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(service.app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return service, server
