"""Mutable sandbox state: clock, registered clients, customers, consents, quotas, faults and counters."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import orjson

from .customers import REVOKED_OFFICIAL_PRMS, Customer, Meter, official_customers

PARIS = ZoneInfo("Europe/Paris")
PUBLICATION_TIME = dt.time(8, 0)


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str
    redirect_uri: str
    name: str = "MetroEnergies"


@dataclass
class SandboxConfig:
    clients: list[RegisteredClient] = field(default_factory=lambda: [RegisteredClient(
        "metroenergies-local", "metroenergies-local-secret", "http://localhost:8001/api/v1/consents/enedis/callback")])
    per_second_quota: int = 5
    hourly_quota: int = 10_000
    token_ttl_s: int = 12_600
    # 365 days per daily call comes from integrators' docs, not from the Swagger (see the DSO notes, §11).
    max_daily_span_days: int | None = 365
    # Enedis never tells the application that a customer refused (consent state `timed_out`); True redirects
    # with error=access_denied instead, as the authorize Swagger's 403 suggests.
    report_refusal: bool = False
    # customers_upc/v5 answers application/octet-stream whatever the Accept header says.
    contracts_octet_stream: bool = True
    now: dt.datetime | None = None
    signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))


class Clock:
    """Sandbox time: real time, real time shifted to a chosen instant, or a frozen instant."""

    def __init__(self, fixed: dt.datetime | None = None):
        self.fixed = fixed
        self.offset = dt.timedelta(0)

    def now(self) -> dt.datetime:
        if self.fixed is not None:
            return self.fixed
        return dt.datetime.now(dt.UTC) + self.offset

    def set(self, instant: dt.datetime, frozen: bool) -> None:
        if frozen:
            self.fixed = instant
        else:
            self.fixed = None
            self.offset = instant - dt.datetime.now(dt.UTC)

    def advance(self, seconds: float) -> None:
        if self.fixed is not None:
            self.fixed += dt.timedelta(seconds=seconds)
        else:
            self.offset += dt.timedelta(seconds=seconds)

    def reset(self) -> None:
        self.fixed, self.offset = None, dt.timedelta(0)

    def today(self) -> dt.date:
        return self.now().astimezone(PARIS).date()

    def last_published_day(self) -> dt.date:
        """Day D is published from 08:00 Europe/Paris on D+1."""
        local = self.now().astimezone(PARIS)
        lag = 1 if local.time() >= PUBLICATION_TIME else 2
        return local.date() - dt.timedelta(days=lag)


@dataclass
class Consent:
    granted_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None = None

    def valid(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass
class Autorisation:
    autorisation_id: int
    client_id: str
    prm: str
    start: dt.date
    end: dt.date


@dataclass
class Faults:
    latency_ms: int = 0
    fail_next_500: int = 0
    fail_next_429: int = 0
    truncate_next: int = 0
    outage_until: dt.datetime | None = None
    # Services souscrits lists nothing yet for the next N calls, as just after a consent (the DSO notes).
    empty_listing_next: int = 0


class QuotaWindow:
    """Sliding windows in real time: the quota protects the real gateway, the sandbox clock cannot bend it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.second: deque[float] = deque()
        self.hour: deque[float] = deque()
        # A simulated run (bench/collection_sim.py) drives it with its own clock.
        self.clock = clock

    def admit(self, per_second: int, per_hour: int) -> tuple[str | None, float]:
        """None when admitted, else 'second' or 'hour' and the seconds until a call would be admitted."""
        now = self.clock()
        while self.second and now - self.second[0] >= 1.0:
            self.second.popleft()
        while self.hour and now - self.hour[0] >= 3600.0:
            self.hour.popleft()
        if len(self.hour) >= per_hour:
            return "hour", 3600.0 - (now - self.hour[0])
        if len(self.second) >= per_second:
            return "second", 1.0 - (now - self.second[0])
        self.second.append(now)
        self.hour.append(now)
        return None, 0.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SandboxState:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self.clients = {c.client_id: c for c in config.clients}
        self.clock = Clock(config.now)
        self.reset()

    def reset(self) -> None:
        self.clock = Clock(self.config.now)
        self.per_second_quota = self.config.per_second_quota
        self.hourly_quota = self.config.hourly_quota
        self.customers: dict[str, Customer] = {}
        self.meters: dict[str, Meter] = {}
        self.consents: dict[tuple[str, str], Consent] = {}
        self.autorisations: dict[int, Autorisation] = {}
        self.session_customer: str | None = None
        self.faults = Faults()
        self.windows: dict[str, QuotaWindow] = {}
        self.tokens: dict[str, tuple[str, float]] = {}
        self.revoked_tokens: set[str] = set()
        self.reset_counters()
        now = self.clock.now()
        for customer in official_customers(self.clock.today()).values():
            self.add_customer(customer)
            for meter in customer.meters:
                for client_id in self.clients:
                    # In the Data Connect sandbox every fake customer has already consented.
                    consent = Consent(now - dt.timedelta(days=30), now + dt.timedelta(days=3 * 365))
                    if meter.prm in REVOKED_OFFICIAL_PRMS:
                        consent.revoked_at = now - dt.timedelta(days=29)
                    self.consents[(client_id, meter.prm)] = consent

    def reset_counters(self) -> None:
        self.counters: Counter[str] = Counter()
        self.status_counts: Counter[int] = Counter()
        # Calls naming each PRM, by kind (data, customers, subscriptions), refused ones included.
        self.prm_calls: dict[str, Counter[str]] = {}
        self.peak_per_second = 0

    def count_prm(self, prm: str, kind: str) -> None:
        self.prm_calls.setdefault(prm, Counter())[kind] += 1

    def add_customer(self, customer: Customer) -> None:
        self.customers[customer.customer_id] = customer
        for meter in customer.meters:
            self.meters[meter.prm] = meter

    def grant(self, client_id: str, prm: str, expires_at: dt.datetime) -> None:
        self.consents[(client_id, prm)] = Consent(self.clock.now(), expires_at)

    def consent_valid(self, client_id: str, prm: str) -> bool:
        consent = self.consents.get((client_id, prm))
        return consent is not None and consent.valid(self.clock.now())

    def new_autorisation(self, client_id: str, prm: str, end: dt.date) -> Autorisation:
        autorisation = Autorisation(100_000_000 + secrets.randbelow(900_000_000), client_id, prm,
                                    self.clock.today(), end)
        self.autorisations[autorisation.autorisation_id] = autorisation
        return autorisation

    def issue_token(self, client_id: str) -> str:
        now = self.clock.now()
        iat = int(now.timestamp())
        header = {"typ": "JWT", "alg": "HS256"}
        payload = {
            "sub": f"{client_id}@carbon.super", "iss": "https://sandbox.local/oauth2/token",
            "aud": "http://org.wso2.apimgt/gateway", "keytype": "SANDBOX", "consumerKey": client_id,
            "scope": "am_application_scope default", "iat": iat, "exp": iat + self.config.token_ttl_s,
            "jti": secrets.token_hex(16),
            "tierInfo": {"Bronze": {"tierQuotaType": "requestCount", "stopOnQuotaReach": True,
                                    "spikeArrestLimit": self.per_second_quota, "spikeArrestUnit": "sec"}},
        }
        signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(payload))}"
        signature = hmac.new(self.config.signing_key, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{_b64(signature)}"
        self.tokens[token] = (client_id, float(payload["exp"]))
        return token

    def token_client(self, token: str) -> str | None:
        """The client_id a bearer token belongs to, None when unknown, revoked or expired."""
        entry = self.tokens.get(token)
        if entry is None or token in self.revoked_tokens:
            return None
        client_id, exp = entry
        if self.clock.now().timestamp() >= exp:
            return None
        return client_id

    def admit(self, client_id: str) -> tuple[str | None, float]:
        window = self.windows.setdefault(client_id, QuotaWindow())
        verdict, wait = window.admit(self.per_second_quota, self.hourly_quota)
        if verdict is None:
            self.peak_per_second = max(self.peak_per_second, len(window.second))
        return verdict, wait
