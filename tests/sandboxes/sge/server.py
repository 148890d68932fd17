"""The SGE drop as the platform sees it: an SFTP server (public-key auth) and a control API for tests."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import Literal

import asyncssh
import uvicorn
from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from . import generator as gen


class DropSftp(asyncssh.SFTPServer):
    """Enedis lets a receiver read and delete its files, never write into the drop."""

    def __init__(self, chan: asyncssh.SSHServerChannel, root: Path):
        super().__init__(chan, chroot=str(root).encode())

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs):
        if pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_APPEND | asyncssh.FXF_TRUNC):
            raise asyncssh.SFTPPermissionDenied("the SGE drop is read-only")
        return super().open(path, pflags, attrs)

    def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise asyncssh.SFTPPermissionDenied("the SGE drop is read-only")

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("the SGE drop is read-only")


class AuthorizedKeys:
    """The receiver's public keys; swappable at run time through the control API."""

    def __init__(self, text: str | None):
        self.keys = asyncssh.import_authorized_keys(text or "")


class DropSsh(asyncssh.SSHServer):
    def __init__(self, authorized: AuthorizedKeys):
        self._authorized = authorized

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        self._conn.set_authorized_keys(self._authorized.keys)
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False


class SubscriptionIn(BaseModel):
    prms: list[str] = Field(min_length=1)
    encryption: Literal["aes", "pgp"] = "aes"


class UnsubscribeIn(BaseModel):
    prms: list[str] = Field(min_length=1)


class PublishIn(BaseModel):
    day: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None


class InjectIn(BaseModel):
    kind: Literal["wrong_key", "truncated_zip", "invalid_xml", "xml_bomb", "large_file"]


class ScenarioIn(BaseModel):
    replacement_day: dt.date | None = None
    missing_days: list[dt.date] = []
    unknown_calendar_days: list[dt.date] = []
    jump_day: dt.date | None = None
    calendar_change_day: dt.date | None = None


class RepublishIn(BaseModel):
    name: str


def create_app(pub: gen.Publisher, authorized: AuthorizedKeys) -> FastAPI:
    app = FastAPI(title="Enedis SGE sandbox control")

    @app.exception_handler(HTTPException)
    async def render(_: Request, exc: HTTPException) -> JSONResponse:
        body = exc.detail if isinstance(exc.detail, dict) else {"error": "http_error", "detail": exc.detail}
        return JSONResponse(body, status_code=exc.status_code)

    @app.get("/_sandbox/health")
    async def health() -> dict:
        return {"status": "ok", "drop": gen.DROP_SUBDIR, "subscriptions": len(pub.subscriptions)}

    @app.put("/_sandbox/authorized_keys", status_code=204)
    async def set_authorized_keys(text: str = Body(media_type="text/plain")) -> None:
        try:
            authorized.keys = asyncssh.import_authorized_keys(text)
        except (ValueError, asyncssh.KeyImportError) as exc:
            raise HTTPException(422, {"error": "bad_authorized_keys", "detail": str(exc)}) from exc

    @app.put("/_sandbox/pgp_public_key", status_code=204)
    async def set_pgp_key(text: str = Body(media_type="text/plain")) -> None:
        try:
            await asyncio.to_thread(pub.set_pgp_public_key, text)
        except ValueError as exc:
            raise HTTPException(422, {"error": "bad_pgp_key", "detail": str(exc)}) from exc

    @app.post("/_sandbox/subscriptions")
    async def subscribe(body: SubscriptionIn) -> dict:
        try:
            pub.subscribe(body.prms, body.encryption)
        except ValueError as exc:
            raise HTTPException(422, {"error": "bad_subscription", "detail": str(exc)}) from exc
        return {"subscribed": len(body.prms), "total": len(pub.subscriptions)}

    @app.post("/_sandbox/subscriptions/unsubscribe")
    async def unsubscribe(body: UnsubscribeIn) -> dict:
        pub.unsubscribe(body.prms)
        return {"total": len(pub.subscriptions)}

    @app.get("/_sandbox/subscriptions")
    async def subscriptions() -> dict:
        return {"subscriptions": [{"prm": s.prm, "encryption": s.encryption} for s in pub.subscriptions.values()]}

    @app.put("/_sandbox/scenario/{prm}")
    async def set_scenario(prm: str, body: ScenarioIn) -> dict:
        pub.scenarios[prm] = gen.Scenario(
            replacement_day=body.replacement_day, missing_days=set(body.missing_days),
            unknown_calendar_days=set(body.unknown_calendar_days), jump_day=body.jump_day,
            calendar_change_day=body.calendar_change_day)
        return {"prm": prm}

    @app.post("/_sandbox/publish")
    async def publish(body: PublishIn) -> dict:
        start = body.day or body.start
        end = body.day or body.end or start
        if start is None or end is None or end < start or (end - start).days > 3660:
            raise HTTPException(422, {"error": "bad_period", "detail": "give day, or start and end"})
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        try:
            names = await asyncio.to_thread(pub.publish_days, days)
        except ValueError as exc:
            raise HTTPException(422, {"error": "bad_period", "detail": str(exc)}) from exc
        return {"files": names}

    @app.post("/_sandbox/republish")
    async def republish(body: RepublishIn) -> dict:
        if body.name not in pub.files:
            raise HTTPException(404, {"error": "unknown_file", "detail": body.name})
        return {"file": await asyncio.to_thread(pub.republish, body.name)}

    @app.post("/_sandbox/inject")
    async def inject(body: InjectIn) -> dict:
        return {"file": await asyncio.to_thread(pub.inject, body.kind), "kind": body.kind}

    @app.get("/_sandbox/ground_truth/{prm}")
    async def ground_truth(prm: str, start: dt.date, end: dt.date) -> dict:
        if end < start or (end - start).days > 3660:
            raise HTTPException(422, {"error": "bad_period", "detail": "start must not be after end"})
        truth = pub.ground_truth(prm, start, end)
        return {"prm": prm, "unit": "Wh",
                "days": [{"day": d.isoformat(), "energy_wh": v} for d, v in truth.items()]}

    return app


def load_host_key(path: Path) -> asyncssh.SSHKey:
    if path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.parent.mkdir(parents=True, exist_ok=True)
    key.write_private_key(str(path))
    os.chmod(path, 0o600)
    return key


async def serve(pub: gen.Publisher, *, sftp_port: int, control_port: int, host_key: Path,
                authorized_keys_text: str | None, host: str = "127.0.0.1") -> None:
    authorized = AuthorizedKeys(authorized_keys_text)
    ssh = await asyncssh.listen(
        host, sftp_port, server_host_keys=[load_host_key(host_key)],
        server_factory=lambda: DropSsh(authorized),
        sftp_factory=lambda chan: DropSftp(chan, pub.root), allow_scp=False)
    config = uvicorn.Config(create_app(pub, authorized), host=host, port=control_port, log_level="warning")
    try:
        await uvicorn.Server(config).serve()
    finally:
        ssh.close()
        await ssh.wait_closed()
