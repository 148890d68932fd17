"""Bodies of ingest-grdf's internal routes."""
from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AccessRightIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    consent_id: uuid.UUID
    meter_id: uuid.UUID
    pce: str = Field(pattern=r"^GI\d{6}$|^\d{14}$")
    holder_name: str = Field(min_length=1, max_length=120)
    postal_code: str = Field(pattern=r"^\d{5}$")
    email: str = Field(min_length=3, max_length=254)
    start: dt.date
    end: dt.date
    # The holder is a legal person (an organisation): sent as raison_sociale rather than nom_titulaire.
    holder_is_company: bool = False

    @model_validator(mode="after")
    def _period(self):
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class AccessRightOut(BaseModel):
    access_right_id: str
    status: str
    dso_status: str
