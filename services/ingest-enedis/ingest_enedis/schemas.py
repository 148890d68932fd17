"""Bodies of ingest-enedis's internal routes."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RedirectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    params: dict[str, str]
