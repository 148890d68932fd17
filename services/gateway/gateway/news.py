"""News: short seasonal items written by advisers and administrators, shown on the home screen of their audience
while valid, archived after (their authors still see them)."""
from __future__ import annotations

import uuid
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import repository
from gateway.auth import Identity, User, require_role
from gateway.schemas import News, NewsDraft, NewsEntry
from metro.db import DbSession
from metro.errors import AppError, Forbidden, NotFound, error_responses
from metro.schemas import local_today, months_after

router = APIRouter(prefix="/api/v1", tags=["news"])
Editor = Annotated[Identity, Depends(require_role("adviser", "admin"))]
NEWS_MONTHS, NEWS_MAX_MONTHS = 3, 12
# Which items an account's roles see, beside those for everyone.
AUDIENCE_OF_ROLE = {"resident": "resident", "professional": "pro"}


def _values(body: NewsDraft) -> dict[str, Any]:
    today = local_today()
    start = body.valid_from or today
    end = body.valid_until or months_after(start, NEWS_MONTHS)
    if end < start or end < today or end > months_after(start, NEWS_MAX_MONTHS):
        raise AppError(f"an item is shown from its first day to its last, at most {NEWS_MAX_MONTHS} months, and "
                       "ends today or later", code="invalid_news_period", status_code=422)
    return {**body.model_dump(), "valid_from": start, "valid_until": end}


def _entry(row: sa.Row) -> dict[str, Any]:
    today = local_today()
    state = "archived" if row.valid_until < today else "scheduled" if row.valid_from > today else "current"
    return {**row._mapping, "state": state}


async def _editable(session: AsyncSession, who: Identity, news_id: uuid.UUID) -> sa.Row:
    """The item, if this editor wrote it or is an administrator (anyone else learns nothing of it)."""
    row = await repository.get_news(session, news_id)
    if row is None or (row.author_id != who.account_id and not who.has("admin")):
        raise NotFound("no such news item of yours", code="news_not_found")
    return row


@router.get("/news", response_model=list[News])
async def current_news(who: User, session: DbSession):
    """News valid today for the caller's audience (`all`, and `resident` or `pro` by role), newest first."""
    audiences = ["all", *{AUDIENCE_OF_ROLE[r] for r in who.roles if r in AUDIENCE_OF_ROLE}]
    return [dict(r._mapping) for r in await repository.news_valid(session, local_today(), audiences)]


@router.post("/admin/news", response_model=NewsEntry, status_code=201, tags=["admin"],
             responses=error_responses(Forbidden, AppError))
async def publish_news(body: NewsDraft, who: Editor, session: DbSession):
    """Publish a news item (advisers and administrators: 403 `forbidden_role` otherwise), valid three months from
    today by default."""
    row = await repository.insert_news(session, {"id": uuid.uuid4(), "author_id": who.account_id,
                                                 **_values(body)})
    return _entry(row)


@router.get("/admin/news", response_model=list[NewsEntry], tags=["admin"], responses=error_responses(Forbidden))
async def written_news(who: Editor, session: DbSession, archived: bool = False):
    """The items you wrote (an administrator: everyone's), current and scheduled; `archived=true`: those past
    their last day."""
    author = None if who.has("admin") else who.account_id
    return [_entry(r) for r in await repository.news_written(session, author, local_today(), archived)]


@router.put("/admin/news/{news_id}", response_model=NewsEntry, tags=["admin"],
            responses=error_responses(Forbidden, NotFound, AppError))
async def edit_news(news_id: uuid.UUID, body: NewsDraft, who: Editor, session: DbSession):
    """Rewrite an item you wrote (an administrator: any). 404 `news_not_found` otherwise."""
    await _editable(session, who, news_id)
    return _entry(await repository.update_news(session, news_id, _values(body)))


@router.delete("/admin/news/{news_id}", status_code=204, tags=["admin"],
               responses=error_responses(Forbidden, NotFound))
async def withdraw_news(news_id: uuid.UUID, who: Editor, session: DbSession):
    """Withdraw an item you wrote (an administrator: any) at once."""
    await _editable(session, who, news_id)
    await repository.delete_news(session, news_id)
