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
    # When the meter is next collected (the channel's quota may not serve every meter each day).
    next_update_at: dt.datetime | None = None


class LoadCurveState(StrEnum):
    """`collecting`: the curve is being collected (the history asked for is not all in yet); `collected`: every
    day asked for is in; `not_recorded`: the customer objected to the load curve at the DSO (its Linky does not
    record it); `no_consent`: no consent covers the curve (or it ended)."""
    collecting = "collecting"
    collected = "collected"
    not_recorded = "not_recorded"
    no_consent = "no_consent"


class LoadCurveCollection(BaseModel):
    """Where a meter's load-curve collection stands, and how far back the resident asked for it."""
    meter_id: uuid.UUID
    state: LoadCurveState
    requested_from: dt.date | None = None
    # The days [first, end[ collected so far, oldest first.
    collected: list[tuple[dt.date, dt.date]] = []
