"""The administrators' audit trail: every action an administrator takes through the API is recorded, in the
transaction of the action itself, with who, when, what, on what and the request id."""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import repository
from gateway.auth import Identity
from metro.logs import current_request_id


async def record(session: AsyncSession, who: Identity, action: str, target: object | None = None,
                 **detail: Any) -> None:
    await repository.record_admin_action(session, {
        "actor_id": who.account_id, "actor_email": who.email, "action": action,
        "target": None if target is None else str(target), "request_id": current_request_id(),
        "detail": {k: v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v)
                   for k, v in detail.items()}})
