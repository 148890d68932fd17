"""Bodies of the consent service's internal operations."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import Field

from metro.schemas import Strict
from metro.schemas.consent import AdviceDraft, ShareScope, ShareTerms


class DsoStatus(Strict):
    status: Literal["awaiting_holder", "active", "refused", "invalid", "timed_out", "revoked", "expired"]
    reason: str | None = None
    evidence: dict[str, Any] = {}
    dso_reference: str | None = None
    expires_at: dt.datetime | None = None
    history_from: dt.date | None = None

    def values(self) -> dict[str, Any]:
        return {k: v for k in ("dso_reference", "expires_at", "history_from") if (v := getattr(self, k)) is not None}


class ShareCreate(ShareTerms):
    adviser_id: uuid.UUID
    adviser_name: str = Field(min_length=1, max_length=200)


class ReadCheck(Strict):
    reader_id: uuid.UUID
    reader_role: Literal["adviser", "admin"]
    reader_name: str
    resident_id: uuid.UUID
    scope: ShareScope
    what: str = Field(max_length=300)


class NoteCreate(AdviceDraft):
    resident_id: uuid.UUID


class RevokeAll(Strict):
    reason: Literal["account_deleted", "user"] = "account_deleted"
