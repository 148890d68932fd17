"""Enedis Data Connect client (v5 and the 2026 generation): token, requests, error mapping.

Every DSO answer is mapped here, once, to the outcomes of `metro.dso`; callers never see an HTTP status. The pure
parts live beside it: the calendar (dataconnect_calendar) and the payloads' mapping (dataconnect_payloads).
Units: daily energy in Wh, daily peak apparent power in VA, days are Europe/Paris local dates.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from ingest_enedis.dataconnect_calendar import MAX_CURVE_WINDOW_DAYS, MAX_DAILY_WINDOW_DAYS, PARIS
from ingest_enedis.dataconnect_payloads import (PRM_PATTERN, CurvePoint, DailyMaxPower, contract_status,
                                                customer_usage_point, error_fields, kva_of, parse_day,
                                                distribution_tariff_option, daily_consumption_readings, load_curve_points,
                                                metering_points)
from metro.dso import (BadRequest, ClientCredentialsClient, ConsentRevoked, DsoError, NoData, QuotaExceeded,
                       Transient, retry_after)

PRODUCTION_BASE_URL = "https://gw.ext.prod.api.enedis.fr"
SANDBOX_BASE_URL = "https://gw.ext.prod-sandbox.api.enedis.fr"
PRODUCTION_AUTHORIZE_BASE_URL = "https://mon-compte-particulier.enedis.fr"
TOKEN_REFRESH_MARGIN_S = 600.0

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
_NO_DATA_CODES = {"no_data_found", "STM-ERR-0000014", "STM-ERR-0000020", "ADAM-ERR0123"}
_CONSENT_CODES = {"ADAM-DC-0008", "ADAM_DC_0008", "ADAM-DC-0007", "unauthorized_user"}
_TRANSIENT_CODES = {"technical_error", "ADAM-DC-0500", "STM-ERR-0000001"}


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
        for stamp, value in metering_points(body):
            at = dt.datetime.fromisoformat(stamp).replace(tzinfo=PARIS) if len(stamp) > 10 else None
            peaks.append(DailyMaxPower(parse_day(stamp), int(value), at))
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
            contracts = customer_usage_point(body).get("contracts") or {}
            if isinstance(contracts, list):
                contracts = contracts[0] if contracts else {}
            activation = contracts.get("last_activation_date")
            change = contracts.get("last_distribution_tariff_change_date")
            return {
                "prm": prm,
                "tariff_option": distribution_tariff_option(contracts.get("distribution_tariff")),
                "distribution_tariff": contracts.get("distribution_tariff"),
                "subscribed_kva": kva_of(contracts.get("subscribed_power")),
                "offpeak_hours": contracts.get("offpeak_hours") or None,
                "status": contract_status(contracts.get("contract_status")),
                "activation_date": parse_day(activation) if activation else None,
                "last_change": parse_day(change) if change else None,
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
            "tariff_option": distribution_tariff_option(withdrawal.get("distribution_tariff")),
            "distribution_tariff": withdrawal.get("distribution_tariff"),
            "subscribed_kva": kva_of(withdrawal.get("subscribed_power")),
            "offpeak_hours": relais.get("plageHeuresCreuses") or None,
            "status": contract_status(withdrawal.get("contract_status")) or ("active" if withdrawal else None),
            "activation_date": parse_day(activation) if activation else None,
            "last_change": parse_day(change) if change else None,
            "segment": segment,
        }

    async def address(self, prm: str) -> dict[str, Any]:
        """Installation address of the meter: street, postal_code, insee_code, city."""
        self._check_prm(prm)
        if self.api_generation == "v5":
            body = await self._request("GET", "/customers_upa/v5/usage_points/addresses",
                                       params={"usage_point_id": prm})
            point = customer_usage_point(body).get("usage_point") or {}
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
        code, text = error_fields(body)
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
