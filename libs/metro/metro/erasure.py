"""What every service does for the personal-data promises: export its part, and erase it when the
deletion saga asks, confirming with ``account.erased``."""
from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from metro.events import AccountErased, ErasureRequested, Received
from metro.outbox import Outbox
from metro.personal_data import PersonalTable, describe, erase, export_rows, withheld_rows
from metro.service_auth import Caller, caller


# The gateway runs the export (and the deletion saga, over the bus).
Gateway = Annotated[Caller, Depends(caller("gateway"))]


def subject_hash(value: uuid.UUID | str) -> str:
    """What may remain of an erased identifier: enough to drop late messages, nothing to find it by."""
    return hashlib.sha256(f"metro-erased:{value}".encode()).hexdigest()


def personal_data_router(registry: list[PersonalTable], withheld_meters=None) -> APIRouter:
    """``withheld_meters(session, account_id, meter_ids)``: the meters whose measurements the export leaves out,
    with the reason; each is listed in a ``<schema>.withheld`` dataset instead."""
    router = APIRouter(prefix="/internal/personal-data", include_in_schema=False)

    @router.get("/registry")
    async def registry_view(_: Gateway):
        return describe(registry)

    @router.get("/export")
    async def export(request: Request, _: Gateway, account_id: uuid.UUID,
                     meter_id: Annotated[list[uuid.UUID], Query()] = []):  # noqa: B006
        """Newline-delimited JSON, one registered row a line, streamed from a server-side cursor."""
        db = request.app.state.db

        async def lines():
            async with db.session() as session, session.begin():
                withheld = await withheld_meters(session, account_id, meter_id) if withheld_meters else {}
                async for entry, row in export_rows(session, registry, account_id, meter_id, withheld=withheld):
                    yield orjson.dumps({"table": entry.name, "purpose": entry.purpose, "row": row},
                                       option=orjson.OPT_NON_STR_KEYS, default=str) + b"\n"
                for row in withheld_rows(registry, withheld):
                    yield orjson.dumps(row) + b"\n"
        return StreamingResponse(lines(), media_type="application/x-ndjson")

    return router


def _mentions(table: sa.Table, account_id: uuid.UUID, meter_ids: list[uuid.UUID]):
    text = sa.cast(table.c.payload, sa.Text)
    ids = [str(account_id), *map(str, meter_ids)]
    return sa.or_(*(text.contains(i) for i in ids))


class OutboxNotDrained(Exception):
    """The erasure is retried once the relay has published what still names the account."""


def erasure_handler(service: str, registry: list[PersonalTable], outbox_table: sa.Table | None, *,
                    before_erase=None, after_erase=None):
    outbox = Outbox(outbox_table, service) if outbox_table is not None else None

    async def on_erasure_requested(session: AsyncSession, events: list[Received[ErasureRequested]]) -> None:
        for e in events:
            account_id, meter_ids = e.payload.account_id, e.payload.meter_ids
            # First, so that work under way on the account (which the hook waits for, e.g. by locking its rows)
            # has committed what it writes before the outbox is looked at.
            if before_erase is not None:
                await before_erase(session, account_id, meter_ids)
            if outbox_table is not None:
                # An event naming the account that is still to be published (the consents' revocation written
                # just before) must go out, and then be erased with the rest: the erasure waits for the relay
                # (the consumer retries it after its delay) rather than leave a row that outlives it.
                waiting = (await session.execute(sa.select(sa.func.count()).select_from(outbox_table).where(
                    outbox_table.c.published_at.is_(None), _mentions(outbox_table, account_id, meter_ids)))).scalar()
                if waiting:
                    raise OutboxNotDrained(f"{waiting} event(s) naming the account are not published yet")
            counts = await erase(session, registry, account_id, meter_ids)
            if after_erase is not None:
                await after_erase(session, account_id, meter_ids)
            if outbox_table is not None:
                # Events already published still name the account in their payload: drop them too.
                result = await session.execute(sa.delete(outbox_table).where(
                    outbox_table.c.published_at.is_not(None), _mentions(outbox_table, account_id, meter_ids)))
                counts[f"{outbox_table.schema}.outbox"] = result.rowcount or 0
            if outbox is not None:
                # The confirmation names the account only by its hash: it must not become a trace itself.
                await outbox.add(session, AccountErased(subject=subject_hash(account_id), service=service,
                                                        rows=sum(counts.values())))
    return on_erasure_requested
