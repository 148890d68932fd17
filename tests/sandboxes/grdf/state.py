"""The ADICT sandbox's mutable state: configuration, clock, customers, tokens, access rights, faults, quotas."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .meters import PARIS, Customer, default_customers

REFUSED_TIMEOUT = "La durée de validité de la demande d'accréditation est dépassée."


@dataclass
class SandboxConfig:
    client_id: str = "metro-grdf"
    client_secret: str = "sandbox-secret"
    tiers_name: str = "METROENERGIES"
    rate_per_second: float | None = 1.0
    daily_cap: int | None = 6000
    token_ttl_seconds: int = 14400
    validation_days: int = 7  # an "A valider" request the holder ignores becomes "Refusée"
    publication_hour: int = 12  # informative day D is served from D+1 at this hour (Paris)
    now: dt.datetime | None = None
    seed_customers: bool = True


@dataclass
class FailingPeriod:
    """Gas days [first, end) of one PCE that ADICT answers with a retry-code line (2000100 "retry your call on
    the period mentioned above") in place of their data, in an otherwise good stream: for the next
    ``remaining`` answers that include them, or always (None). The line's `periode` names the failing days,
    or echoes the request as every other line does (``echo``)."""
    pce: str
    first: dt.date
    end: dt.date
    code: tuple[str, str]
    remaining: int | None = None
    echo: bool = False

    def public(self) -> dict[str, Any]:
        return {"pce": self.pce, "start": self.first.isoformat(), "end": self.end.isoformat(), "code": self.code[0],
                "remaining": self.remaining, "echo_period": self.echo}


@dataclass
class Faults:
    counts: dict[str, int] = field(default_factory=dict)
    retry_after: int = 1
    outage_until: dt.datetime | None = None
    latency_seconds: float = 0.0
    latency_count: int = 0
    failing: list[FailingPeriod] = field(default_factory=list)

    def take(self, kind: str) -> bool:
        if self.counts.get(kind, 0) > 0:
            self.counts[kind] -= 1
            return True
        return False

    def take_failing(self, pce: str, lo: dt.date, hi: dt.date) -> list[FailingPeriod]:
        """The failing periods of ``pce`` that an answer for [lo, hi) meets, each counted once."""
        met = [f for f in self.failing if f.pce == pce and f.first < hi and f.end > lo and f.remaining != 0]
        for f in met:
            if f.remaining is not None:
                f.remaining -= 1
        return met


class Sandbox:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self.offset = dt.timedelta(0)
        if config.now is not None:
            self.set_now(config.now)
        self.customers: dict[str, Customer] = {}
        if config.seed_customers:
            for customer in default_customers():
                self.customers[customer.pce] = customer
        self.tokens: dict[str, tuple[str, dt.datetime]] = {}
        self.rights: dict[str, dict[str, Any]] = {}
        self.mailbox: list[dict[str, str]] = []
        self.faults = Faults()
        self.last_call: dict[str, float] = {}
        self.daily_calls: dict[tuple[str, dt.date], int] = {}

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + self.offset

    def set_now(self, moment: dt.datetime) -> None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=PARIS)
        self.offset = moment - dt.datetime.now(dt.timezone.utc)

    def local_now(self) -> dt.datetime:
        return self.now().astimezone(PARIS)

    def today(self) -> dt.date:
        return self.local_now().date()

    def stamp(self) -> str:
        return self.local_now().strftime("%Y-%m-%d %H:%M:%S")

    def last_published_day(self) -> dt.date:
        local = self.local_now()
        lag = 1 if local.hour >= self.config.publication_hour else 2
        return local.date() - dt.timedelta(days=lag)

    def expire_pending(self) -> None:
        limit = dt.timedelta(days=self.config.validation_days)
        for right in self.rights.values():
            if right["etat_droit_acces"] == "A valider" and self.now() - right["_created"] > limit:
                self.move(right, "Refusée", REFUSED_TIMEOUT)

    def move(self, right: dict[str, Any], state: str, source: str) -> None:
        right["etat_droit_acces"] = state
        if state == "Active":
            right["date_fin_autorisation"] = None
        elif state == "Refusée":
            right["date_passage_a_refuse"], right["source_passage_a_refuse"] = self.stamp(), source
        elif state == "Révoquée":
            right["date_revocation"], right["source_revocation"] = self.stamp(), source
        elif state == "Obsolète":
            right["date_passage_a_obsolete"], right["source_passage_a_obsolete"] = self.stamp(), source
