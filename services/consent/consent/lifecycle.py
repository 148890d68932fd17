"""The consent life cycle of ARCHITECTURE.md, written once as data."""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    requested = "requested"
    awaiting_holder = "awaiting_holder"
    active = "active"
    expiring = "expiring"
    refused = "refused"
    invalid = "invalid"
    timed_out = "timed_out"
    revoked = "revoked"
    expired = "expired"


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.requested: frozenset({S.awaiting_holder, S.active, S.refused, S.invalid}),
    S.awaiting_holder: frozenset({S.active, S.refused, S.invalid, S.timed_out}),
    S.active: frozenset({S.expiring, S.revoked, S.expired}),
    S.expiring: frozenset({S.active, S.revoked, S.expired}),
    S.refused: frozenset(), S.invalid: frozenset(), S.timed_out: frozenset(),
    S.revoked: frozenset(), S.expired: frozenset(),
}
FINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
LIVE = frozenset({S.requested, S.awaiting_holder, S.active, S.expiring})
COLLECTING = frozenset({S.active, S.expiring})
REVOKE_REASONS = frozenset({"user", "dso", "expired", "account_deleted", "supply_ended",
                            # an administrator found the meter is not at the resident's dwelling
                            "address_rejected",
                            # an administrator gave the meter's claim up
                            "claim_released",
                            # the DSO does not confirm the meter for this consent
                            "not_confirmed_by_dso",
                            # an administrator ended the SGE subscription
                            "subscription_ended"})


def allowed(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]
