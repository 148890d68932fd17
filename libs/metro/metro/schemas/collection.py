"""Bodies of the DSO connectors about their collection: what each knows of a meter's data, for the gateway to
tell "the DSO has not published yet" from "collection is broken"."""
from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel


class Freshness(StrEnum):
    """`fresh`: the newest day the DSO publishes by now is collected; `dso_late`: behind, but within the DSO's
    documented lag; `collection_failing`: the DSO's answers fail, or it published nothing beyond its lag (see
    the reason); `no_consent`: nothing is collected, the consent is not (or no longer) active; `pending`:
    consent given, the first collection has not answered yet."""
    fresh = "fresh"
    dso_late = "dso_late"
    collection_failing = "collection_failing"
    no_consent = "no_consent"
    pending = "pending"


class FailingReason(StrEnum):
    dso_unavailable = "dso_unavailable"          # the DSO's service errors or times out
    dso_quota_exceeded = "dso_quota_exceeded"    # our share of the DSO's quota is spent for now
    dso_request_refused = "dso_request_refused"  # the DSO refuses the request for this meter
    dso_no_data = "dso_no_data"                  # the DSO publishes nothing for this meter beyond its lag
    dso_consent_missing = "dso_consent_missing"  # the DSO holds no consent: collection stopped


class CollectionStatus(BaseModel):
    meter_id: uuid.UUID
    last_collected_day: dt.date | None = None
    freshness: Freshness
    reason: FailingReason | None = None
    # The newest day the DSO publishes by now (at its shortest lag).
    expected_day: dt.date
    # Before the first data of a consented meter: the day it is due by, from the DSO's publication rules.
    first_data_by: dt.date | None = None
