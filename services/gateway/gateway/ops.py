"""Operations: the health of the gateway and of every service it depends on."""
from __future__ import annotations

import asyncio

import httpx
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

router = APIRouter(prefix="/api/v1", tags=["operations"])
DEPENDENCIES = ("consent", "consumption", "notify", "ingest_enedis", "ingest_grdf", "ingest_sge")


class Health(BaseModel):
    status: str
    checks: dict[str, str]


async def _service_ready(http: httpx.AsyncClient, url: str) -> str:
    try:
        r = await http.get(f"{url}/health/ready", timeout=3)
        return "ok" if r.status_code == 200 else f"unavailable ({r.status_code})"
    except httpx.HTTPError as exc:
        return f"unreachable ({type(exc).__name__})"


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(request: Request):
    rt = request.app.state.runtime
    checks: dict[str, str] = {}
    try:
        async with rt.db.engine.connect() as conn:
            await conn.execute(sa.text("select 1"))
        checks["gateway.database"] = "ok"
    except Exception as exc:
        checks["gateway.database"] = f"down ({type(exc).__name__})"
    results = await asyncio.gather(*(_service_ready(rt.services.http, rt.settings.url_of(s)) for s in DEPENDENCIES))
    checks.update(dict(zip(DEPENDENCIES, results)))
    status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
    return JSONResponse(Health(status=status, checks=checks).model_dump(), 200 if status == "ok" else 503)
