"""GRDF ADICT v2 sandbox: OAuth2 client credentials, droits d'accès, consumption, contract and technical data.

Built from /work/shared/dso/grdf-adict.md and the Swagger export (API B2B ADICT V2). Control endpoints for
tests live under /_sandbox/ (clock, customers, faults, quotas, holder consent page, ground truth).
One router per resource in routes/; they reach the sandbox's state through `gateway.State`.
"""
from __future__ import annotations

from fastapi import APIRouter, FastAPI

from .gateway import ApiError, api_error
from .routes import access_rights, admin, consumption, contract, oauth
from .state import Sandbox, SandboxConfig

API_PREFIXES = ("/adict/v2", "/adict/bas/v6")


def create_app(config: SandboxConfig | None = None) -> FastAPI:
    app = FastAPI(title="GRDF ADICT sandbox", version="2")
    app.state.sandbox = Sandbox(config or SandboxConfig())
    app.add_exception_handler(ApiError, api_error)
    app.include_router(oauth.router)
    api = APIRouter()
    for resource in (access_rights, consumption, contract):
        api.include_router(resource.router)
    for prefix in API_PREFIXES:
        app.include_router(api, prefix=prefix)
    app.include_router(admin.router)
    return app
