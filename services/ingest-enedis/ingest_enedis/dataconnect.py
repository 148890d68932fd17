"""Enedis Data Connect client (v5 and the 2026 generation).

Every DSO answer is mapped here, once, to the outcomes of `metro.dso`; callers never see an HTTP status.
Units: daily energy in Wh, daily peak apparent power in VA, days are Europe/Paris local dates.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx

from metro.dso import (BadRequest, Capabilities, ClientCredentialsClient, ConsentRevoked, DsoError, NoData,
                       QuotaExceeded, Transient, retry_after)

PARIS = ZoneInfo("Europe/Paris")
PRODUCTION_BASE_URL = "https://gw.ext.prod.api.enedis.fr"
SANDBOX_BASE_URL = "https://gw.ext.prod-sandbox.api.enedis.fr"
PRODUCTION_AUTHORIZE_BASE_URL = "https://mon-compte-particulier.enedis.fr"
PRM_PATTERN = re.compile(r"^\d{14}$")
# Integrators' documentation gives 365 days per call on daily endpoints; the Swagger says nothing.
MAX_DAILY_WINDOW_DAYS = 365
TOKEN_REFRESH_MARGIN_S = 600.0

CAPABILITIES = Capabilities(
    dso="enedis",
    channel="dataconnect",
    energies=("electricity",),
    granularities=("P1D",),
    history_days=3 * 365 + 15,
    publication_time=dt.time(8, 0),
    lag_days_min=1,
    lag_days_max=2,
    notes=(
        "day D is published from 08:00 Europe/Paris on D+1, late meters on D+2",
        "history: 36 months + 15 days back, never before the meter's last activation date",
        f"at most {MAX_DAILY_WINDOW_DAYS} days per daily call, end date exclusive and not after today",
        "quota per application: 5 calls/s and 1 000 to 10 000 calls/h, shared by every meter",
    ),
)

ApiGeneration = Literal["v5", "2026"]
# Runs one DSO request: ``await through(lambda: request())``.
Through = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]


async def _direct(call: Callable[[], Awaitable[Any]]) -> Any:
    return await call()


_V5_PATHS = {
    "consumption": "/metering_data_dc/v5/daily_consumption",
    "load_curve": "/metering_data_clc/v5/consumption_load_curve",
    "max_power": "/metering_data_dcmp/v5/daily_consumption_max_power",
}
_V2_PATHS = {
    "consumption": "/mesure_synchrone_auto/v2/consommation_quotidienne",
    "load_curve": "/mesure_synchrone_auto/v2/courbe_de_charge_consommation",
    "max_power": "/mesure_synchrone_auto/v2/puissance_conso_max_quotidienne",
}
# Load curves: at most 7 days a call, 24 months + 15 days of history.
MAX_CURVE_WINDOW_DAYS = 7
CURVE_NOT_RECORDED = "ADAM-ERR0075"
_NO_DATA_CODES = {"no_data_found", "STM-ERR-0000014", "STM-ERR-0000020", "ADAM-ERR0123"}
_CONSENT_CODES = {"ADAM-DC-0008", "ADAM_DC_0008", "ADAM-DC-0007", "unauthorized_user"}
_TRANSIENT_CODES = {"technical_error", "ADAM-DC-0500", "STM-ERR-0000001"}
_DISTRIBUTION_TARIFF_OPTION = {"ST": "BASE", "DT": "HC", "U4": "HC_SEASONAL"}


@dataclass(frozen=True)
class ConsentRedirect:
    """What the consent page sent back to our redirect URI."""
    state: str | None
    prms: tuple[str, ...] = ()
    autorisation_id: str | None = None
    error: str | None = None
    error_description: str | None = None

    @property
    def granted(self) -> bool:
        return self.error is None and (bool(self.prms) or self.autorisation_id is not None)


@dataclass(frozen=True)
class DailyMaxPower:
    day: dt.date
    va: int
    at: dt.datetime | None = field(default=None)


@dataclass(frozen=True)
class CurvePoint:
    """One load-curve interval: its start (UTC), length in minutes and average power in W."""
    start: dt.datetime
    minutes: int
    w: int


def _step_minutes(value: Any) -> int:
    match = re.fullmatch(r"PT(\d+)M", str(value or "PT30M"))
    if not match:
        raise Transient(f"unexpected load-curve step {value!r}", code="unexpected_body")
    return int(match.group(1))


def load_curve_points(body: Any) -> list[CurvePoint]:
    """A load-curve answer (either generation) as intervals. The DSO stamps each point with the END of its
    interval in local time without an offset: on the October DST day 02:00 and 02:30 come twice, told apart
    by their order; the step may change from one point to the next."""
    try:
        if isinstance(body, dict) and "meter_reading" in body:
            raw = [(r["date"], r["value"], r.get("interval_length"))
                   for r in body["meter_reading"].get("interval_reading") or []]
        elif isinstance(body, dict) and "grandeur" in body:
            raw = [(p["d"], p["v"], p.get("p")) for g in body["grandeur"] or [] for p in g.get("points") or []]
        else:
            raise Transient("unexpected load-curve body", code="unexpected_body")
    except (AttributeError, KeyError, TypeError) as exc:
        raise Transient(f"unexpected load-curve body: {exc!r}", code="unexpected_body") from exc
    points: list[CurvePoint] = []
    previous: dt.datetime | None = None
    for stamp, value, step in raw:
        if value in (None, ""):
            continue
        local = dt.datetime.fromisoformat(str(stamp))
        end = local.replace(tzinfo=PARIS).astimezone(dt.UTC)
        if previous is not None and end <= previous:
            end = local.replace(tzinfo=PARIS, fold=1).astimezone(dt.UTC)
        minutes = _step_minutes(step)
        points.append(CurvePoint(end - dt.timedelta(minutes=minutes), minutes, int(value)))
        previous = end
    return points


def parse_consent_redirect(params: Mapping[str, str]) -> ConsentRedirect:
    """v1 callbacks carry `usage_point_id` (`;` since late 2023, `,` before), v2 callbacks `autorisation_id`."""
    raw = params.get("usage_point_id") or ""
    prms = tuple(dict.fromkeys(p.strip() for p in re.split(r"[;,]", raw) if p.strip()))
    error = params.get("error")
    if error is None and raw and not all(PRM_PATTERN.match(p) for p in prms):
        error = "invalid_usage_point_id"
    return ConsentRedirect(state=params.get("state"), prms=prms if error is None else (),
                           autorisation_id=params.get("autorisation_id") or None, error=error,
                           error_description=params.get("error_description"))


def plan_windows(start: dt.date, end: dt.date, max_days: int = MAX_DAILY_WINDOW_DAYS) -> list[tuple[dt.date, dt.date]]:
    """Split [start, end[ into consecutive half-open windows of at most max_days days, oldest first."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    windows = []
    cursor = start
    while cursor < end:
        stop = min(cursor + dt.timedelta(days=max_days), end)
        windows.append((cursor, stop))
        cursor = stop
    return windows


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def earliest_history_day(today: dt.date) -> dt.date:
    """Oldest `start` the daily endpoints accept (36 months + 15 days back), one day of margin kept."""
    return _add_months(today, -36) - dt.timedelta(days=14)


def latest_published_day(now: dt.datetime) -> dt.date:
    """Last day Data Connect is expected to serve at `now`: D appears at 08:00 Paris time on D+1."""
    local = now.astimezone(PARIS)
    return local.date() - dt.timedelta(days=1 if local.time() >= CAPABILITIES.publication_time else 2)


def _error_fields(body: Any) -> tuple[str | None, str]:
    """The error code and text of any of the DSO's body shapes (business, WSO2 fault, 2026 `code/message`)."""
    if not isinstance(body, dict):
        return None, ""
    if isinstance(body.get("fault"), dict):
        body = body["fault"]
    code = body.get("error") if body.get("error") is not None else body.get("code")
    text = " ".join(str(body[k]) for k in ("error_description", "message", "description") if body.get(k))
    return (str(code) if code is not None else None), text


def _retry_after(response: httpx.Response, body: Any, text: str) -> float:
    header = retry_after(response)
    if header is not None:
        return header
    if isinstance(body, dict) and body.get("nextAccessTime"):
        try:
            at = dt.datetime.strptime(str(body["nextAccessTime"]), "%Y-%b-%d %H:%M:%S%z UTC")
            return max((at - dt.datetime.now(dt.UTC)).total_seconds(), 1.0)
        except ValueError:
            return 60.0
    # "Quota Q4 reached" is the hourly quota; everything else is the per-second spike arrest.
    return 60.0 if "Q4" in text else 1.0


def _parse_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value[:10])


def _kva(value: Any) -> int | None:
    if isinstance(value, dict):
        value = value.get("value")
    match = re.search(r"\d+", str(value or ""))
    return int(match.group()) if match else None


def _tariff_option(distribution_tariff: str | None) -> str | None:
    """The DSO only knows the distribution tariff (TURPE option), not the supplier offer (Tempo is invisible)."""
    if not distribution_tariff:
        return None
    code = distribution_tariff.upper()
    for suffix, option in _DISTRIBUTION_TARIFF_OPTION.items():
        if code.startswith("BTINF") and code.endswith(suffix):
            return option
    text = code.lower()
    if "deux saisons" in text:
        return "HC_SEASONAL"
    if "heures creuses" in text:
        return "HC"
    if "sans différenciation" in text or "sans differenciation" in text:
        return "BASE"
    return None


def _contract_status(code: str | None) -> str | None:
    return {"SERVC": "active", "RESIL": "terminated", "ECRES": "terminating", "ECRAC": "connecting",
            "INACCE": "inaccessible"}.get((code or "").upper(), (code or None) and code.lower())


def _customer_usage_point(body: Any) -> dict[str, Any]:
    """v5 customers payloads, with or without the `customer` wrapper."""
    if isinstance(body, dict) and isinstance(body.get("customer"), dict):
        body = body["customer"]
    points = body.get("usage_points") if isinstance(body, dict) else None
    if not points:
        raise Transient("customers payload without usage_points", code="unexpected_body")
    return points[0]


def daily_consumption_readings(body: Any) -> list[tuple[dt.date, int]]:
    """A daily consumption answer (either generation) as (day, Wh); replays read kept answers with it."""
    return [(_parse_date(d), int(v)) for d, v in DataConnectClient._points(body)]


class DataConnectClient:
    def __init__(self, base_url: str, client_id: str, client_secret: str, redirect_uri: str,
                 api_generation: ApiGeneration = "2026", authorize_base_url: str | None = None,
                 timeout_s: float = 30.0, verify: bool = True):
        if api_generation not in ("v5", "2026"):
            raise ValueError(f"unknown Data Connect generation {api_generation!r}")
        self.base_url = base_url.rstrip("/")
        self.authorize_base_url = (authorize_base_url or self.base_url).rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.api_generation = api_generation
        # Basic authentication, as every working client does; the v3 token endpoint also takes it in the form.
        self._http = ClientCredentialsClient(client_id, client_secret, f"{self.base_url}/oauth2/v3/token",
                                             token_endpoint_auth_method="client_secret_basic",
                                             timeout=timeout_s, verify=verify)
        self._http.register_compliance_hook("access_token_response", self._token_response)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> DataConnectClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- consent ---------------------------------------------------------------------------------------------

    def authorize_url(self, state: str, duration: str = "P3Y") -> str:
        """The consent page for the resident; v1 before Data Connect 2026, v2 after."""
        if not state or len(state) > 100:
            raise ValueError("state must be 1 to 100 characters")
        version = "v1" if self.api_generation == "v5" else "v2"
        query = urlencode({"client_id": self.client_id, "duration": duration, "response_type": "code",
                           "state": state})
        return f"{self.authorize_base_url}/dataconnect/{version}/oauth2/authorize?{query}"

    async def exchange_autorisation(self, autorisation_id: str | int) -> list[str]:
        """PRMs behind a v2 consent (`autorisation_id` of the callback), through Services souscrits."""
        body = await self._request("POST", "/subscribed_services/v1/", json_body={
            "autorisationId": int(autorisation_id), "comptage": False,
            "etatCode": ["ACTIF", "DEMANDE"], "serviceType": "ACCES"})
        services = body.get("serviceSouscrit") or [] if isinstance(body, dict) else []
        prms = [s["pointId"] for s in services if isinstance(s, dict) and s.get("pointId")
                and s.get("etatCode", "ACTIF") in ("ACTIF", "DEMANDE")]
        # A self-consumption PRM holds one withdrawal and one injection service.
        return list(dict.fromkeys(prms))

    # --- token -----------------------------------------------------------------------------------------------

    def _token_response(self, response: httpx.Response) -> httpx.Response:
        """Token answers are mapped like any other; `expires_in` is a string in the Swagger, a number live."""
        body = self._decode(response)
        if response.status_code != 200:
            self._raise_for(response, body)
        try:
            ttl = float(body["expires_in"])
            str(body["access_token"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Transient("token response without access_token/expires_in", code="unexpected_body") from exc
        # Renew 10 % of the lifetime (at least 10 min) before expiry, but never before half of it has passed.
        self._http.leeway = min(max(TOKEN_REFRESH_MARGIN_S, ttl * 0.1), ttl / 2)
        return ClientCredentialsClient.token_answer(response, body, ttl)

    # --- metering --------------------------------------------------------------------------------------------

    async def daily_consumption(self, prm: str, start: dt.date, end: dt.date,
                                raw: list[Any] | None = None) -> list[tuple[dt.date, int]]:
        """Daily energy in Wh for [start, end[ (one call: split long ranges with plan_windows).
        ``raw`` receives the decoded body as the DSO sent it, to be kept for replays."""
        body = await self._daily("consumption", prm, start, end)
        if raw is not None:
            raw.append(body)
        return daily_consumption_readings(body)

    async def load_curve(self, prm: str, start: dt.date, end: dt.date,
                         raw: list[Any] | None = None) -> list[CurvePoint]:
        """Average power per interval over [start, end[, at most 7 days (one call)."""
        self._check_prm(prm)
        if start >= end:
            raise BadRequest(f"empty period {start}..{end} (end is exclusive)", code="empty_period")
        if (end - start).days > MAX_CURVE_WINDOW_DAYS:
            raise BadRequest(f"load curve over {MAX_CURVE_WINDOW_DAYS} days", code="period_too_long")
        if self.api_generation == "v5":
            params = {"usage_point_id": prm, "start": start.isoformat(), "end": end.isoformat()}
            body = await self._request("GET", _V5_PATHS["load_curve"], params=params)
        else:
            params = {"pointId": prm, "dateDebut": start.isoformat(), "dateFin": end.isoformat()}
            body = await self._request("GET", _V2_PATHS["load_curve"], params=params)
        if raw is not None:
            raw.append(body)
        return load_curve_points(body)

    async def daily_max_power(self, prm: str, start: dt.date, end: dt.date,
                              raw: list[Any] | None = None) -> list[DailyMaxPower]:
        """Daily peak apparent power in VA, with the local moment of the peak when the DSO gives it."""
        body = await self._daily("max_power", prm, start, end)
        if raw is not None:
            raw.append(body)
        peaks = []
        for stamp, value in self._points(body):
            at = dt.datetime.fromisoformat(stamp).replace(tzinfo=PARIS) if len(stamp) > 10 else None
            peaks.append(DailyMaxPower(_parse_date(stamp), int(value), at))
        return peaks

    async def _daily(self, measure: str, prm: str, start: dt.date, end: dt.date) -> Any:
        self._check_prm(prm)
        if start >= end:
            raise BadRequest(f"empty period {start}..{end} (end is exclusive)", code="empty_period")
        if (end - start).days > MAX_DAILY_WINDOW_DAYS:
            raise BadRequest(f"period over {MAX_DAILY_WINDOW_DAYS} days, use plan_windows", code="period_too_long")
        if self.api_generation == "v5":
            params = {"usage_point_id": prm, "start": start.isoformat(), "end": end.isoformat()}
            return await self._request("GET", _V5_PATHS[measure], params=params)
        params = {"pointId": prm, "dateDebut": start.isoformat(), "dateFin": end.isoformat()}
        if measure == "max_power":
            params |= {"mesuresPas": "P1D", "grandeurPhysique": "PMA"}
        return await self._request("GET", _V2_PATHS[measure], params=params)

    @staticmethod
    def _points(body: Any) -> list[tuple[str, str]]:
        try:
            if isinstance(body, dict) and "meter_reading" in body:
                readings = body["meter_reading"].get("interval_reading") or []
                return [(str(r["date"]), str(r["value"])) for r in readings if r.get("value") not in (None, "")]
            if isinstance(body, dict) and "grandeur" in body:
                points = [p for g in body["grandeur"] or [] for p in g.get("points") or []]
                return [(str(p["d"]), str(p["v"])) for p in points if p.get("v") not in (None, "")]
        except (AttributeError, KeyError, TypeError) as exc:
            raise Transient(f"unexpected metering body: {exc!r}", code="unexpected_body") from exc
        raise Transient("metering body has neither meter_reading nor grandeur", code="unexpected_body")

    # --- contract and address --------------------------------------------------------------------------------

    async def contract(self, prm: str, through: Through | None = None) -> dict[str, Any]:
        """Normalised: tariff_option (BASE, HC, HC_SEASONAL), subscribed_kva, offpeak_hours, status,
        activation_date, last_change, plus the raw distribution_tariff.

        The 2026 generation needs three requests; ``through`` runs each one (under the quota, with its
        retries), so that every request the DSO counts is counted here too."""
        self._check_prm(prm)
        through = through or _direct
        if self.api_generation == "v5":
            body = await through(lambda: self._request("GET", "/customers_upc/v5/usage_points/contracts",
                                                       params={"usage_point_id": prm}))
            contracts = _customer_usage_point(body).get("contracts") or {}
            if isinstance(contracts, list):
                contracts = contracts[0] if contracts else {}
            activation = contracts.get("last_activation_date")
            change = contracts.get("last_distribution_tariff_change_date")
            return {
                "prm": prm,
                "tariff_option": _tariff_option(contracts.get("distribution_tariff")),
                "distribution_tariff": contracts.get("distribution_tariff"),
                "subscribed_kva": _kva(contracts.get("subscribed_power")),
                "offpeak_hours": contracts.get("offpeak_hours") or None,
                "status": _contract_status(contracts.get("contract_status")),
                "activation_date": _parse_date(activation) if activation else None,
                "last_change": _parse_date(change) if change else None,
                "segment": contracts.get("segment"),
            }
        situations = await through(lambda: self._request("GET", f"/situation_contrat_auto/v1/{prm}"))
        synthesis = await through(lambda: self._request("GET", f"/synth_contrat_auto/v1/{prm}"))
        metering = await through(lambda: self._request("GET", f"/comptage_auto/v1/{prm}"))
        if isinstance(situations, dict):
            situations = [situations]
        withdrawal = next((s for s in situations or [] if isinstance(s, dict) and s.get("contract_type") != "Contrat GRD-A"),
                          None) or {}
        activation = synthesis.get("consumption_last_activation_date") if isinstance(synthesis, dict) else None
        change = synthesis.get("last_subscribed_power_change_date") if isinstance(synthesis, dict) else None
        relais = ((metering or {}).get("dispositifComptage") or {}).get("relais") or {}
        segment = withdrawal.get("segment")
        if isinstance(segment, list):
            segment = next((s.get("segment") if isinstance(s, dict) else s for s in segment), None)
        return {
            "prm": prm,
            "tariff_option": _tariff_option(withdrawal.get("distribution_tariff")),
            "distribution_tariff": withdrawal.get("distribution_tariff"),
            "subscribed_kva": _kva(withdrawal.get("subscribed_power")),
            "offpeak_hours": relais.get("plageHeuresCreuses") or None,
            "status": _contract_status(withdrawal.get("contract_status")) or ("active" if withdrawal else None),
            "activation_date": _parse_date(activation) if activation else None,
            "last_change": _parse_date(change) if change else None,
            "segment": segment,
        }

    async def address(self, prm: str) -> dict[str, Any]:
        """Installation address of the meter: street, postal_code, insee_code, city."""
        self._check_prm(prm)
        if self.api_generation == "v5":
            body = await self._request("GET", "/customers_upa/v5/usage_points/addresses",
                                       params={"usage_point_id": prm})
            point = _customer_usage_point(body).get("usage_point") or {}
            a = point.get("usage_point_addresses") or {}
            return {"prm": prm, "street": a.get("street"), "locality": a.get("locality") or None,
                    "postal_code": a.get("postal_code"), "insee_code": a.get("insee_code"), "city": a.get("city"),
                    "country": a.get("country")}
        body = await self._request("GET", f"/donnees_generales_auto/v1/{prm}")
        a = (body or {}).get("address") or {}
        postal_code, _, city = str(a.get("postal_code_city") or "").partition(" ")
        return {"prm": prm, "street": a.get("number_street_name"), "locality": a.get("locality") or None,
                "postal_code": postal_code or None, "insee_code": a.get("insee_code"), "city": city or None,
                "country": "France"}

    # --- transport and error mapping -------------------------------------------------------------------------

    @staticmethod
    def _check_prm(prm: str) -> None:
        if not PRM_PATTERN.match(prm or ""):
            raise BadRequest(f"{prm!r} is not a 14-digit PRM", code="invalid_prm")

    async def _request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                       json_body: Any = None) -> Any:
        for attempt in (1, 2):
            try:
                response = await self._http.request(method, f"{self.base_url}{path}", params=params,
                                                    json=json_body, headers={"Accept": "application/json"})
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                raise Transient(f"{path}: {exc!r}", code="network") from exc
            if response.status_code == 401 and attempt == 1:
                # Refused before its announced expiry: one new token, one more try.
                self._http.token_refused(response)
                continue
            body = self._decode(response)
            if response.status_code == 200:
                if body is None:
                    raise Transient(f"{path}: empty or truncated body", code="truncated_body", status=200)
                return body
            self._raise_for(response, body)
        raise AssertionError("unreachable")

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        """JSON whatever the Content-Type says (contracts come back as application/octet-stream)."""
        try:
            return json.loads(response.content) if response.content else None
        except (ValueError, UnicodeDecodeError):
            if response.status_code == 200:
                raise Transient("truncated or unparsable body", code="truncated_body", status=200) from None
            return None

    @staticmethod
    def _raise_for(response: httpx.Response, body: Any) -> None:
        status = response.status_code
        code, text = _error_fields(body)
        message = f"Data Connect {status} {code or ''}: {text}".strip()
        error: DsoError
        if status == 429:
            error = QuotaExceeded(message, code=code or "429", retry_after=_retry_after(response, body, text))
        elif status >= 500 or code in _TRANSIENT_CODES:
            error = Transient(message, code=code, status=status)
        elif code in _CONSENT_CODES:
            error = ConsentRevoked(message, code=code, status=status)
        elif code in _NO_DATA_CODES or (status == 404 and "mesure" in text.lower()):
            error = NoData(message, code=code, status=status)
        elif status == 403 and code != "900908":
            # Any other 403 on a data call means the consent is gone (2026 bodies carry only `code: "403"`).
            error = ConsentRevoked(message, code=code or "403", status=status)
        else:
            error = BadRequest(message, code=code, status=status)
        raise error
