"""Bodies of ingest-enedis's internal routes."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RedirectIn(BaseModel):
    """The consent page's answer, and the PRM of the meter the consent was asked for."""
    model_config = ConfigDict(extra="forbid")
    params: dict[str, str]
    prm: str = Field(pattern=r"^\d{14}$")


class ConfirmationIn(BaseModel):
    """Asking Enedis again about a consent it had not confirmed yet (an empty listing, an unavailable DSO)."""
    model_config = ConfigDict(extra="forbid")
    prm: str = Field(pattern=r"^\d{14}$")
    autorisation_id: str | None = None


class ConfirmationOut(BaseModel):
    """`confirmed`: Enedis names the PRMs of `usage_point_ids` for this consent; `pending`: ask again later
    (`detail` listing_empty or dso_unavailable); `not_confirmed`: Enedis does not confirm it."""
    dso_confirmation: Literal["confirmed", "pending", "not_confirmed"]
    usage_point_ids: list[str]
    generation: str
    detail: str | None = None
    evidence: dict[str, Any]
