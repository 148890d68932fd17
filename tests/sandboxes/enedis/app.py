"""Enedis Data Connect simulator: consent pages (v1, v2), client-credentials token, metering data (v5 and
2026 shapes), contract and address data, with the real rules and errors, plus a control API under /_sandbox/.

One router per resource in routes/; they reach the sandbox's state through `gateway.Sandbox`.
"""
from __future__ import annotations

import time

from fastapi import FastAPI

from .gateway import ApiError, api_error, count_status
from .routes import admin, consent, customers, load_curve, metering, oauth, subscriptions  # noqa: F401 (load_curve adds to metering's router)
from .state import SandboxConfig, SandboxState


def create_app(config: SandboxConfig | None = None) -> FastAPI:
    app = FastAPI(title="Enedis Data Connect sandbox", docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json")
    app.state.sandbox = SandboxState(config or SandboxConfig())
    app.middleware("http")(count_status)
    app.add_exception_handler(ApiError, api_error)
    for resource in (consent, oauth, metering, customers, subscriptions, admin):
        app.include_router(resource.router)
    app.state.started = time.monotonic()
    return app
