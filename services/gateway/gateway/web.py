"""Serves the built SPA: hashed assets cached for a year, every other non-API path answers index.html."""
from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from starlette.routing import Match, Route
from starlette.staticfiles import StaticFiles


log = logging.getLogger(__name__)
# The checkout's build, for an editable install (make run, the tests). An installed package lives in a venv,
# away from any checkout: the image names its copy of the build in web_dist (METRO_GATEWAY_WEB_DIST).
DEFAULT_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
NOT_PAGES = ("/api/", "/health/", "/metrics")


class _HashedAssets(StaticFiles):
    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = IMMUTABLE
        return response


def mount_web(app: FastAPI, settings) -> None:
    dist: Path = getattr(settings, "web_dist", None) or DEFAULT_DIST
    if not (dist / "index.html").exists():
        if not settings.local_mode:
            raise RuntimeError(f"no built web app in {dist}: set web_dist to the folder holding index.html")
        log.warning("no built web app: only the API is served", extra={"web_dist": str(dist)})
        return
    if (dist / "assets").is_dir():
        app.mount("/assets", _HashedAssets(directory=dist / "assets"), name="assets")

    async def spa(request: Request):
        path = request.path_params["path"]
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and dist.resolve() in candidate.parents:
            # sw.js and the manifest must be revalidated so that a new release is picked up.
            return FileResponse(candidate, headers={"cache-control": "no-cache"})
        return FileResponse(dist / "index.html", headers={"cache-control": "no-cache"})
    app.router.routes.append(_PagesRoute("/{path:path}", spa, methods=["GET"], include_in_schema=False))


class _PagesRoute(Route):
    """The SPA's pages: every path but the API's, so that a wrong method on an API path stays 405 (with Allow)
    and an unknown API path 404 from the router, not a page."""

    def matches(self, scope):
        if scope["type"] == "http" and scope["path"].startswith(NOT_PAGES):
            return Match.NONE, {}
        return super().matches(scope)
