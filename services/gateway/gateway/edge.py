"""The public edge: who the client is behind the ingress, and the security headers of every answer."""
from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

# The SPA loads only its own files (web/index.html has no inline script or style; React sets styles through
# the CSSOM, which style-src does not govern) and talks only to this origin; sw.js is its service worker.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
       "connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=63072000; includeSubDomains"


class SecurityHeaders:
    """Pure ASGI middleware: every answer carries these headers unless it sets its own (the API docs' CSP)."""

    def __init__(self, app, hsts: bool):
        self.app = app
        self.headers = [("content-security-policy", CSP), ("x-content-type-options", "nosniff"),
                        ("referrer-policy", "same-origin"), ("permissions-policy", PERMISSIONS)]
        if hsts:
            self.headers.append(("strict-transport-security", HSTS))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_wrapper)


def protect(app: FastAPI, settings) -> None:
    app.add_middleware(SecurityHeaders, hsts=not settings.local_mode)
    # Outermost, so that every layer sees the client a trusted proxy names (the right-most untrusted address).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.proxies)


def docs_csp(html: bytes) -> str:
    """Swagger UI's page: its files from the CDN FastAPI names, and its one inline script by hash."""
    scripts = re.findall(rb"<script>(.*?)</script>", html, re.DOTALL)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in scripts)
    return "; ".join((
        "default-src 'none'", f"script-src https://cdn.jsdelivr.net {hashes}",
        "style-src https://cdn.jsdelivr.net 'unsafe-inline'",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.jsdelivr.net", "connect-src 'self'",
        "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"))
