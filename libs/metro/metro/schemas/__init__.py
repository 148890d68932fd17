"""Bodies exchanged over REST, one module per owning service: the gateway forwards and documents them in
OpenAPI, the owner validates them. A service's bodies that never leave it stay in its own ``schemas.py``."""
from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than silently ignored."""
    model_config = ConfigDict(extra="forbid")


class Energy(StrEnum):
    electricity = "electricity"
    gas = "gas"
    heat = "heat"
    water = "water"
