"""GRDF ADICT v2 client: droits d'accès, informative daily consumption, contract and technical data.

Every ADICT answer is mapped once, to the closed set of outcomes of `metro.dso`: here for the calls, in
`adict_payloads` for what the bodies say.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from ingest_grdf.adict_payloads import (DailyReading, business_error, contract_from, fold, http_error,
                                        normalise_access_right, parse_objects, readings_in, retry_periods,
                                        technical_from)
from metro.dso import BadRequest, Capabilities, ClientCredentialsClient, DsoError, Transient

PROD_BASE_URL = "https://api.grdf.fr/adict/v2"
PROD_TOKEN_URL = "https://adict-connexion.grdf.fr/oauth2/aus5y2ta2uEHjCWIR417/v1/token"
TOKEN_PATH = "/oauth2/aus5y2ta2uEHjCWIR417/v1/token"
API_PATH = "/adict/v2"
PCE_PATTERN = re.compile(r"^GI\d{6}$|^\d{14}$")
INFORMATIVE_HISTORY_YEARS = 3
TOKEN_MARGIN_S = 300.0

CAPABILITIES = Capabilities(
    dso="grdf",
    channel="adict",
    energies=("gas",),
    granularities=("day",),
    history_days=3 * 365,
    publication_time=dt.time(12, 0),
    lag_days_min=1,
    lag_days_max=5,
    notes=(
        "informative daily data: gas day D runs 06:00 to 06:00 Europe/Paris, published D+1 to D+3",
        "history: informatives 3 years, published (billing) data 5 years",
        "quota: 1 call/s and 6 000 calls/day for a portfolio under 5 000 PCE, all APIs combined",
        "consent: the holder validates by e-mail (A valider -> Active), GRDF never pushes a revocation",
    ),
)


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def history_windows(start: dt.date, end: dt.date, today: dt.date, *,
                    years: int = INFORMATIVE_HISTORY_YEARS, max_days: int = 366) -> list[tuple[dt.date, dt.date]]:
    """Split [start, end) into windows ADICT accepts: date_debut >= today - N years, date_fin <= today,
    date_debut < date_fin, at most max_days each (keeps one answer small enough to retry cheaply).
    A window with the oldest allowed day keeps one spare day because "today" may turn at GRDF first."""
    lo = max(start, years_before(today, years) + dt.timedelta(days=1))
    hi = min(end, today)
    windows = []
    while lo < hi:
        upper = min(hi, lo + dt.timedelta(days=max_days))
        windows.append((lo, upper))
        lo = upper
    return windows

def _token_response(response: httpx.Response) -> httpx.Response:
    """Token errors are mapped like any other answer; `expires_in` may be a string, or missing (an hour)."""
    if response.status_code != 200:
        raise http_error(response)
    try:
        body = response.json()
        str(body["access_token"])
        lifetime = float(body.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Transient("ADICT token answer unreadable", code="bad_token_body") from exc
    return ClientCredentialsClient.token_answer(response, body, lifetime)


class AdictClient:
    """ADICT over HTTPS with a cached client-credentials token (about 4 h, no refresh token).

    `base_url` is either a host (a sandbox: the API lives under /adict/v2 and the token endpoint on the
    same host) or the full API base (production: the token comes from GRDF's Okta unless `token_url`).
    `min_interval` paces calls (GRDF allows 1 call/s per application, all APIs combined).
    """

    def __init__(self, base_url: str, client_id: str, client_secret: str, *, token_url: str | None = None,
                 scope: str = "/adict/v2", min_interval: float = 1.0, timeout: float = 120.0):
        root = base_url.rstrip("/")
        if urlsplit(root).path in ("", "/"):
            self.api_url = root + API_PATH
            self.token_url = token_url or root + TOKEN_PATH
        else:
            self.api_url = root
            self.token_url = token_url or PROD_TOKEN_URL
        self.client_id, self.client_secret, self.scope = client_id, client_secret, scope
        # GRDF's Okta takes the credentials in the form (client_secret_post); no refresh token, ~4 h lifetime.
        self._http = ClientCredentialsClient(client_id, client_secret, self.token_url, scope=scope,
                                             token_endpoint_auth_method="client_secret_post",
                                             leeway=TOKEN_MARGIN_S, timeout=httpx.Timeout(timeout, connect=10.0))
        self._http.register_compliance_hook("access_token_response", _token_response)
        self._pace_lock = asyncio.Lock()
        self._min_interval = min_interval
        self._last_call = -float("inf")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AdictClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # ---- transport ----

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, url, **kwargs)
            await response.aread()
            return response
        except httpx.TimeoutException as exc:
            raise Transient(f"ADICT time-out: {exc!r}", code="timeout") from exc
        except httpx.HTTPError as exc:  # connection refused or reset, body cut by the peer
            raise Transient(f"ADICT transport error: {exc!r}", code="transport") from exc

    async def _pace(self) -> None:
        async with self._pace_lock:
            wait = self._last_call + self._min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_call = time.monotonic()

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API call; re-authenticates once on 401 (token revoked or expired early at GRDF)."""
        for attempt in range(2):
            await self._pace()
            response = await self._send(method, self.api_url + path, headers={"Accept": "application/json"},
                                        **kwargs)
            if response.status_code != 401 or attempt:
                break
            self._http.token_refused(response)
        if response.status_code == 401:
            raise http_error(response)
        return response

    # ---- droits d'accès ----

    async def declare_access(self, pce: str, holder_name: str, postal_code: str, email: str,
                             start: dt.date, end: dt.date, *, holder_is_company: bool = False,
                             history_from: dt.date | None = None, phone: str | None = None,
                             role: str = "AUTORISE_CONTRAT_FOURNITURE", informative: bool = True,
                             published: bool = True, contractual: bool = True,
                             technical: bool = True) -> dict[str, Any]:
        """PUT /pce/{pce}/droit_acces. An AUTORISE declaration waits for the holder ("A valider")."""
        check_pce(pce)

        def flag(value: bool) -> str:
            return "Vrai" if value else "Faux"

        body: dict[str, Any] = {
            "role_tiers": role,
            "raison_sociale" if holder_is_company else "nom_titulaire": holder_name,
            "code_postal": postal_code,
            "courriel_titulaire": email,
            "numero_telephone_mobile_titulaire": phone,
            "date_debut_droit_acces": start.isoformat(),
            "date_fin_droit_acces": end.isoformat(),
            "perim_donnees_conso_debut": (history_from or years_before(start, 5)).isoformat(),
            "perim_donnees_conso_fin": end.isoformat(),
            "perim_donnees_contractuelles": flag(contractual),
            "perim_donnees_techniques": flag(technical),
            "perim_donnees_informatives": flag(informative),
            "perim_donnees_publiees": flag(published),
        }
        response = await self._call("PUT", f"/pce/{pce}/droit_acces",
                                    json={k: v for k, v in body.items() if v is not None})
        if response.status_code not in (200, 201):
            raise http_error(response)
        raw = self._json(response)
        return normalise_access_right(raw) | {"code": raw.get("code_statut_traitement"),
                                              "message": raw.get("message_retour_traitement")}

    async def list_access_rights(self, pces: list[str] | None = None, *, states: list[str] | None = None,
                                 role: str | None = None) -> list[dict[str, Any]]:
        """GET /droits_acces, or POST with array filters. The stream must end with its status line."""
        filters: dict[str, list[str]] = {}
        if pces:
            if len(pces) > 1000:
                raise BadRequest("ADICT lists at most 1000 PCE per call", code="too_many_pce")
            filters["id_pce"] = list(pces)
        if states:
            filters["etat_droit_acces"] = list(states)
        if role:
            filters["role_tiers"] = [role]
        if filters:
            response = await self._call("POST", "/droits_acces", json=filters)
        else:
            response = await self._call("GET", "/droits_acces")
        if response.status_code != 200:
            raise http_error(response)
        rights: list[dict[str, Any]] = []
        trailer: dict[str, Any] | None = None
        for obj in parse_objects(response.content):
            if not isinstance(obj, dict):
                raise Transient("ADICT access-right line is not an object", code="malformed_line")
            if trailer is not None:
                raise Transient("ADICT access-right stream goes on after its status line", code="malformed_body")
            if "code_statut_traitement" in obj:
                trailer = obj
            elif isinstance(obj.get("liste_acces"), list):  # seen in the wild: a wrapped first line
                rights.extend(normalise_access_right(r) for r in obj["liste_acces"])
            else:
                rights.append(normalise_access_right(obj))
        if trailer is None:
            raise Transient("ADICT access-right stream ended without its status line (truncated)",
                            code="truncated_body")
        code = str(trailer["code_statut_traitement"])
        if code == "0000000000":
            return rights
        if code == "1000000001" or "AUCUN DROIT" in fold(trailer.get("message_retour_traitement")):
            return []
        raise Transient(f"ADICT access-right stream failed: {trailer.get('message_retour_traitement')}", code=code)

    async def revoke_access(self, access_right_id: str) -> dict[str, Any]:
        """PATCH /droit_acces/{id}: the tiers gives up the right; unknown or already revoked gives BadRequest."""
        response = await self._call("PATCH", f"/droit_acces/{access_right_id}", json={})
        if response.status_code != 200:
            raise http_error(response)
        raw = self._json(response)
        return {"access_right_id": access_right_id, "status": "revoked",
                "code": raw.get("code_statut_traitement"), "message": raw.get("message_retour_traitement")}

    # ---- données ----

    async def informative_daily(self, pce: str, start: dt.date, end: dt.date, raw: list[Any] | None = None,
                                retry: list[tuple[tuple[dt.date, dt.date], DsoError]] | None = None,
                                ) -> list[DailyReading]:
        """Gas days in [start, end) from donnees_consos_informatives, energy in integer Wh.
        Raises NoData when GRDF has nothing for the period, ConsentRevoked when the right is gone.
        ``raw`` receives the lines as GRDF sent them, once the whole body has been read.

        A line with a retry code (2000100) fails only the period it names: with ``retry``, the good lines are
        returned and ``retry`` receives the days to ask again on their own, with the error; without it, or
        when nothing else was returned, the whole call raises Transient (never half the data unsaid)."""
        check_pce(pce)
        if start >= end:
            raise BadRequest("start must be before end", code="empty_period")
        response = await self._call("GET", f"/pce/{pce}/donnees_consos_informatives",
                                    params={"date_debut": start.isoformat(), "date_fin": end.isoformat()})
        if response.status_code != 200:
            raise http_error(response)
        failed: list[tuple[dict[str, Any], DsoError]] = []
        lines = parse_objects(response.content)
        for line in lines:
            if not isinstance(line, dict):
                raise Transient("ADICT data line is not an object", code="malformed_line")
            if "code_statut_traitement" in line:
                if str(line["code_statut_traitement"]) != "0000000000":
                    raise Transient(str(line.get("message_retour_traitement")),
                                    code=str(line["code_statut_traitement"]))
                continue
            error = business_error(line.get("statut_restitution"))
            if error is not None:
                if not isinstance(error, Transient):
                    raise error
                failed.append((line, error))
                continue
            line_pce = (line.get("pce") or {}).get("id_pce")
            if line_pce not in (None, pce):
                raise Transient(f"ADICT answered for PCE {line_pce} instead of {pce}", code="wrong_pce")
        readings = readings_in(lines, start, end)
        days = {r.day for r in readings}
        periods = [(period, error) for line, error in failed for period in retry_periods(line, start, end, days)]
        if failed and (retry is None or not readings):
            raise failed[0][1]
        if raw is not None:
            raw.extend(lines)
        if retry is not None:
            retry.extend(periods)
        return readings

    async def contract(self, pce: str) -> dict[str, Any]:
        """donnees_contractuelles, normalised."""
        return contract_from(pce, await self._single(pce, "donnees_contractuelles"))

    async def technical(self, pce: str) -> dict[str, Any]:
        return technical_from(pce, await self._single(pce, "donnees_techniques"))

    async def _single(self, pce: str, key: str) -> dict[str, Any]:
        check_pce(pce)
        response = await self._call("GET", f"/pce/{pce}/{key}")
        if response.status_code != 200:
            raise http_error(response)
        body = self._json(response)
        error = business_error(body.get("statut_restitution"))
        if error is not None:
            raise error
        data = body.get(key)
        if not isinstance(data, dict):
            raise Transient(f"ADICT {key} answer without data", code="malformed_body")
        return data

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        objects = parse_objects(response.content)
        if len(objects) != 1 or not isinstance(objects[0], dict):
            raise Transient("ADICT answer is not one JSON object", code="malformed_body")
        return objects[0]


def check_pce(pce: str) -> None:
    if not PCE_PATTERN.match(pce):
        raise BadRequest(f"PCE {pce!r} is not GI + 6 digits or 14 digits", code="bad_pce")
