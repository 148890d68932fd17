"""The local operators' drop as the platform sees it: one SFTP server (public-key auth) with a folder per
operator (``depot``: the operator's files, read and deleted by the platform; ``retour``: the platform's lists),
and a control API for tests."""
from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Literal

import asyncssh
import uvicorn
from fastapi import Body, FastAPI, HTTPException
from pydantic import BaseModel

from tests.sandboxes.sge.server import AuthorizedKeys, DropSsh, load_host_key

from .operators import OPERATORS, Exchange, Operators, holder_of


class OperatorSftp(asyncssh.SFTPServer):
    """The platform writes only into the ``retour`` folders; nothing else is writable."""

    def __init__(self, chan: asyncssh.SSHServerChannel, root: Path):
        super().__init__(chan, chroot=str(root).encode())

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs):
        writing = pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_APPEND | asyncssh.FXF_TRUNC)
        if writing and b"/retour/" not in b"/" + path.lstrip(b"/"):
            raise asyncssh.SFTPPermissionDenied("only the retour folders are writable")
        return super().open(path, pflags, attrs)

    def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise asyncssh.SFTPPermissionDenied("the folders are the operators'")


class PublishIn(BaseModel):
    operator: Literal["greenalp", "cciag", "eau_de_grenoble"]
    energy: Literal["electricity", "gas", "heat", "water"]
    start: dt.date
    end: dt.date | None = None
    # A first publication with wrong values for some meters (Wh added), corrected later by the same name.
    wrong: dict[str, int] = {}
    encoding: str | None = None
    truncate: bool = False


class ExchangeIn(BaseModel):
    day: dt.date
    old_serial: str
    new_serial: str


def create_app(ops: Operators) -> FastAPI:
    app = FastAPI(title="Local operators sandbox control")

    @app.get("/_sandbox/health")
    async def health() -> dict:
        return {"status": "ok", "operators": list(OPERATORS)}

    @app.put("/_sandbox/authorized_keys", status_code=204)
    async def set_keys(text: str = Body(media_type="text/plain")) -> None:
        app.state.authorized.keys = asyncssh.import_authorized_keys(text)

    @app.get("/_sandbox/holders/{identifier}")
    async def holder(identifier: str) -> dict:
        """The holder's name as on the operator's contract (what the resident reads on the bill)."""
        return {"identifier": identifier, "holder_name": holder_of(identifier)}

    @app.get("/_sandbox/{operator}/lists")
    async def lists(operator: str) -> dict:
        return {"lists": ops.lists(operator), "latest": ops.consented(operator)}

    @app.put("/_sandbox/exchanges/{prm}")
    async def exchange(prm: str, body: ExchangeIn) -> dict:
        ops.exchanges[prm] = Exchange(body.day, body.old_serial, body.new_serial)
        return {"prm": prm}

    @app.post("/_sandbox/publish")
    async def publish(body: PublishIn) -> dict:
        end = body.end or body.start
        if end < body.start or (end - body.start).days > 400:
            raise HTTPException(422, {"error": "bad_period", "detail": "start must not be after end"})
        names: list[str] = []
        for i in range((end - body.start).days + 1):
            day = body.start + dt.timedelta(days=i)
            names += await asyncio.to_thread(ops.publish, body.operator, body.energy, day, wrong=body.wrong,
                                             encoding=body.encoding, truncate=body.truncate)
        return {"files": names}

    @app.get("/_sandbox/ground_truth/{energy}/{identifier}")
    async def ground_truth(energy: str, identifier: str, start: dt.date, end: dt.date) -> dict:
        return {"identifier": identifier, "values": ops.truth(energy, identifier, start, end)}

    return app


async def serve(ops: Operators, *, sftp_port: int, control_port: int, host_key: Path,
                authorized_keys_text: str | None, host: str = "127.0.0.1") -> None:
    authorized = AuthorizedKeys(authorized_keys_text)
    ssh = await asyncssh.listen(
        host, sftp_port, server_host_keys=[load_host_key(host_key)],
        server_factory=lambda: DropSsh(authorized),
        sftp_factory=lambda chan: OperatorSftp(chan, ops.root), allow_scp=False)
    app = create_app(ops)
    app.state.authorized = authorized
    config = uvicorn.Config(app, host=host, port=control_port, log_level="warning")
    try:
        await uvicorn.Server(config).serve()
    finally:
        ssh.close()
        await ssh.wait_closed()
