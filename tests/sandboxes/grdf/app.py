"""GRDF ADICT v2 sandbox: OAuth2 client credentials, droits d'accès, consumption, contract and technical data.

Built from /work/shared/dso/grdf-adict.md and the Swagger export (API B2B ADICT V2). Control endpoints for
tests live under /_sandbox/ (clock, customers, faults, quotas, holder consent page, ground truth).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import math
import re
import secrets
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from . import codes
from .meters import PARIS, PCE_PATTERN, PROFILES, Customer, default_customers, gas_day_bounds, years_before

TOKEN_PATH = "/oauth2/aus5y2ta2uEHjCWIR417/v1/token"
API_PREFIXES = ("/adict/v2", "/adict/bas/v6")
SCOPES = ("/adict/v2", "/adict/bas/v6")
ROLES = ("AUTORISE_CONTRAT_FOURNITURE", "DETENTEUR_CONTRAT_FOURNITURE",
         "AUTORISE_CONTRAT_INJECTION", "DETENTEUR_CONTRAT_INJECTION")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
MOBILE = re.compile(r"^0[67]\d{8}$")
POSTCODE = re.compile(r"^\d{5}$")
PERIOD = re.compile(r"(^\d{4}$)|(^PN-\d{4}$)|(^\d{4}-\d{2}$)|(^PN-\d{4}-\d{2}$)|(^\d{4}-W\d{2}$)|"
                    r"(^PN-\d{4}-W\d{2}$)|(^PN-\d{4}-W\d{2}-\d{1}$)|(^\d{4}-\d{3})$")
CONTRACT_FILTERS = ("car", "cja", "profil_type_actuel", "tarif_acheminement", "date_mes")
STREAM_FAULTS = ("truncated", "malformed_line", "error_in_stream")
CALL_FAULTS = ("http_500", "http_429")
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


class ApiError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def gda_error(status: int, code: tuple[str, str]) -> ApiError:
    return ApiError(status, {"code_statut_traitement": code[0], "message_retour_traitement": code[1]})


def fold(text: str | None) -> str:
    """Upper case, no accents, single spaces: how names and états are compared."""
    raw = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in raw if not unicodedata.combining(c)).upper().replace("-", " ").split())


@dataclass
class Faults:
    counts: dict[str, int] = field(default_factory=dict)
    retry_after: int = 1
    outage_until: dt.datetime | None = None
    latency_seconds: float = 0.0
    latency_count: int = 0

    def take(self, kind: str) -> bool:
        if self.counts.get(kind, 0) > 0:
            self.counts[kind] -= 1
            return True
        return False


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


def dumps(value: Any) -> str:
    """Compact, UTF-8 JSON as ADICT writes its NDJSON lines."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def public(right: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in right.items() if not k.startswith("_")}


def parse_day(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def create_app(config: SandboxConfig | None = None) -> FastAPI:
    sandbox = Sandbox(config or SandboxConfig())
    app = FastAPI(title="GRDF ADICT sandbox", version="2")
    app.state.sandbox = sandbox

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    def outage_error() -> ApiError | None:
        until = sandbox.faults.outage_until
        if until is not None and sandbox.now() < until:
            retry = max(1, math.ceil((until - sandbox.now()).total_seconds()))
            return ApiError(503, {"error": "service_unavailable",
                                  "message": "Service en maintenance, veuillez réessayer ultérieurement."},
                            {"Retry-After": str(retry)})
        return None

    @app.post(TOKEN_PATH)
    async def token(request: Request) -> JSONResponse:
        if (error := outage_error()) is not None:
            raise error
        form = await request.form()
        if form.get("grant_type") != "client_credentials":
            raise ApiError(400, {"error": "unsupported_grant_type",
                                 "error_description": "The authorization grant type is not supported."})
        if (form.get("client_id") != sandbox.config.client_id
                or not secrets.compare_digest(str(form.get("client_secret", "")), sandbox.config.client_secret)):
            raise ApiError(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
        scope = str(form.get("scope") or "")
        if scope not in SCOPES:
            raise ApiError(400, {"error": "invalid_scope",
                                 "error_description": "One or more scopes are not configured."})
        access_token = secrets.token_urlsafe(32)
        ttl = sandbox.config.token_ttl_seconds
        sandbox.tokens[access_token] = (sandbox.config.client_id, sandbox.now() + dt.timedelta(seconds=ttl))
        return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": ttl - 1,
                             "scope": scope})

    async def gate(request: Request) -> str:
        """What the API gateway does before any ADICT handler: availability, bearer token, faults, quotas."""
        if (error := outage_error()) is not None:
            raise error
        header = request.headers.get("authorization")
        if not header:
            raise gda_error(401, codes.UNAUTHORISED)
        scheme, _, value = header.partition(" ")
        if scheme != "Bearer" or not value:
            raise ApiError(400, {"error": "invalid_request", "message": "En-tête Authorization mal formé."})
        known = sandbox.tokens.get(value)
        if known is None or known[1] <= sandbox.now():
            raise gda_error(401, codes.UNAUTHORISED)
        client = known[0]
        faults = sandbox.faults
        if faults.take("http_500"):
            raise ApiError(500, {"code_statut_traitement": codes.TECHNICAL[0],
                                 "message_retour_traitement": codes.TECHNICAL[1]})
        if faults.take("http_429"):
            raise ApiError(429, {"error": "quota_exceeded", "message": "Trop de requêtes."},
                           {"Retry-After": str(faults.retry_after)})
        rate = sandbox.config.rate_per_second
        mono = time.monotonic()
        if rate:
            elapsed = mono - sandbox.last_call.get(client, -math.inf)
            if elapsed < 1.0 / rate:
                raise ApiError(429, {"error": "quota_exceeded",
                                     "message": f"Limite de {rate:g} appel(s) par seconde dépassée."},
                               {"Retry-After": str(max(1, math.ceil(1.0 / rate - elapsed)))})
        day = sandbox.today()
        cap = sandbox.config.daily_cap
        if cap is not None and sandbox.daily_calls.get((client, day), 0) >= cap:
            midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), PARIS)
            retry = max(1, math.ceil((midnight - sandbox.now()).total_seconds()))
            raise ApiError(429, {"error": "quota_exceeded", "message": f"Quota journalier de {cap} appels atteint."},
                           {"Retry-After": str(retry)})
        sandbox.last_call[client] = mono
        sandbox.daily_calls[(client, day)] = sandbox.daily_calls.get((client, day), 0) + 1
        if faults.latency_count > 0:
            faults.latency_count -= 1
            await asyncio.sleep(faults.latency_seconds)
        sandbox.expire_pending()
        return client

    api = APIRouter()

    # ---- droits d'accès (GDA) ----

    @api.put("/pce/{id_pce}/droit_acces", status_code=201)
    async def declare(id_pce: str, request: Request, client: str = Depends(gate)) -> JSONResponse:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            raise gda_error(400, codes.BAD_FORM) from None
        if not isinstance(body, dict):
            raise gda_error(400, codes.BAD_FORM)
        right = validate_declaration(sandbox, id_pce, body, client)
        sandbox.rights[right["id_droit_acces"]] = right
        if right["etat_droit_acces"] == "A valider":
            sandbox.mailbox.append({"to": right["courriel_titulaire"], "access_right_id": right["id_droit_acces"],
                                    "id_pce": id_pce, "link": f"/_sandbox/holder/{right['id_droit_acces']}",
                                    "subject": f"{sandbox.config.tiers_name} demande l'accès à vos données gaz"})
            status = codes.PENDING
        else:
            status = codes.OK
        out = {"code_statut_traitement": status[0], "message_retour_traitement": status[1],
               "date_creation_droit_acces": right["date_creation"]} | public(right)
        return JSONResponse(out, status_code=201)

    async def list_rights(client: str, filters: dict[str, list[str]]) -> Response:
        rows = []
        for right in sandbox.rights.values():
            if right["_client"] != client:
                continue
            if all(not values or str(right.get(key)) in values for key, values in filters.items()):
                rows.append(dumps(public(right)))
        trailer = codes.OK if rows else ("1000000001", "Aucun droit d’accès trouvé.")
        rows.append(dumps({"code_statut_traitement": trailer[0], "message_retour_traitement": trailer[1]}))
        return ndjson(sandbox, rows, stream_error=dumps(
            {"code_statut_traitement": codes.TECHNICAL[0], "message_retour_traitement": codes.TECHNICAL[1]}))

    @api.get("/droits_acces")
    async def list_all(client: str = Depends(gate)) -> Response:
        return await list_rights(client, {})

    @api.post("/droits_acces")
    async def list_filtered(request: Request, client: str = Depends(gate)) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise gda_error(400, ("1000000000", "Une erreur technique est survenue.")) from None
        if not isinstance(body, dict):
            raise gda_error(400, ("1000000000", "Une erreur technique est survenue."))
        filters: dict[str, list[str]] = {}
        for key in ("id_pce", "role_tiers", "etat_droit_acces", "statut_controle_preuve"):
            value = body.get(key)
            if value is None:
                continue
            filters[key] = [str(v) for v in (value if isinstance(value, list) else [value])]
        if len(filters.get("id_pce", [])) > 1000:
            raise gda_error(400, ("2000000009", "Le nombre maximal de 1000 PCE par requête est dépassé."))
        return await list_rights(client, filters)

    @api.patch("/droit_acces/{id_droit_acces}")
    async def revoke(id_droit_acces: str, client: str = Depends(gate)) -> JSONResponse:
        try:
            uuid.UUID(id_droit_acces)
        except ValueError:
            raise gda_error(500, codes.TECHNICAL) from None
        right = sandbox.rights.get(id_droit_acces)
        if right is None or right["_client"] != client or right["etat_droit_acces"] not in ("Active", "A valider"):
            raise gda_error(404, codes.NO_RIGHT_FOUND)
        sandbox.move(right, "Révoquée", "Tiers")
        right["_revoked_by"] = "tiers"
        return JSONResponse({"code_statut_traitement": codes.OK[0], "message_retour_traitement": codes.OK[1]})

    @api.put("/droit_acces/{id_droit_acces}/preuves")
    async def proofs(id_droit_acces: str, client: str = Depends(gate)) -> JSONResponse:
        right = sandbox.rights.get(id_droit_acces)
        if right is None or right["_client"] != client:
            raise gda_error(404, codes.NO_RIGHT_FOUND)
        raise gda_error(409, codes.PROOF_NOT_ASKED)

    # ---- données ----

    def resolve_right(client: str, pce: str, flag: str) -> tuple[str, str] | dict[str, Any]:
        """The right that lets this tiers read this data, or the statut_restitution explaining why not."""
        customer = sandbox.customers.get(pce)
        today = sandbox.today()
        if customer is None:
            return codes.D_NOT_AUTHORISED
        if customer.supply_ended is not None and customer.supply_ended <= today:
            return codes.D_MOVED
        mine = sorted((r for r in sandbox.rights.values() if r["_client"] == client and r["id_pce"] == pce),
                      key=lambda r: r["_created"])
        active = [r for r in mine if r["etat_droit_acces"] == "Active"]
        current = [r for r in active if r["date_fin_droit_acces"] >= today.isoformat()]
        if current:
            right = current[-1]
            if fold(right.get(flag)) != "VRAI":
                return {"perim_donnees_informatives": codes.D_PERIM_INFORMATIVE,
                        "perim_donnees_publiees": codes.D_PERIM_PUBLISHED,
                        "perim_donnees_contractuelles": codes.D_PERIM_CONTRACTUAL,
                        "perim_donnees_techniques": codes.D_PERIM_TECHNICAL}[flag]
            return right
        if active:
            return codes.D_EXPIRED
        last = mine[-1] if mine else None
        if last is not None and last["etat_droit_acces"] == "Révoquée":
            return codes.D_TIERS_REVOKED if last.get("_revoked_by") == "tiers" else codes.D_HOLDER_REVOKED
        if last is not None and last["etat_droit_acces"] == "Obsolète":
            return codes.D_OBSOLETE
        return codes.D_NOT_AUTHORISED

    def period_of(params: dict[str, str]) -> tuple[str | None, dt.date, dt.date]:
        """The requested [date_debut, date_fin) from either `periode` or the date pair (400 on bad input)."""
        periode, start_raw, end_raw = params.get("periode"), params.get("date_debut"), params.get("date_fin")
        if periode and (start_raw or end_raw):
            raise data_400(params, codes.D_BOTH_MODES)
        if periode:
            if not PERIOD.match(periode) or periode.startswith("PN-"):
                raise data_400(params, codes.D_PERIOD_FORMAT)
            try:
                if re.fullmatch(r"\d{4}", periode):
                    start = dt.date(int(periode), 1, 1)
                    end = dt.date(int(periode) + 1, 1, 1)
                elif re.fullmatch(r"\d{4}-\d{2}", periode):
                    start = dt.date(int(periode[:4]), int(periode[5:]), 1)
                    end = (start + dt.timedelta(days=32)).replace(day=1)
                elif "W" in periode:
                    start = dt.date.fromisocalendar(int(periode[:4]), int(periode[6:]), 1)
                    end = start + dt.timedelta(days=7)
                else:
                    start = dt.date(int(periode[:4]), 1, 1) + dt.timedelta(days=int(periode[5:]) - 1)
                    end = start + dt.timedelta(days=1)
            except ValueError:
                raise data_400(params, codes.D_PERIOD_FORMAT) from None
            end = min(end, sandbox.today())
            return periode, start, end
        if not start_raw and not end_raw:
            raise data_400(params, codes.D_NO_MODE)
        if not start_raw:
            raise data_400(params, codes.D_START_MISSING)
        if not end_raw:
            raise data_400(params, codes.D_END_MISSING)
        start, end = parse_day(start_raw), parse_day(end_raw)
        if start is None or end is None:
            raise data_400(params, codes.D_DATE_FORMAT)
        return None, start, end

    def check_range(params: dict[str, str], start: dt.date, end: dt.date, years: int) -> None:
        today = sandbox.today()
        if start >= end:
            raise data_400(params, codes.D_START_AFTER_END)
        if end > today:
            raise data_400(params, codes.D_END_FUTURE)
        if start < years_before(today, years):
            raise data_400(params, codes.D_HISTORY[years])

    def data_400(params: dict[str, str], code: tuple[str, str]) -> ApiError:
        return ApiError(400, {"pce": {"id_pce": params.get("_pce")},
                              "periode": {"valeur": params.get("periode"), "date_debut": params.get("date_debut"),
                                          "date_fin": params.get("date_fin")},
                              "releve_debut": None, "releve_fin": None, "consommation": None,
                              "statut_restitution": {"code": code[0], "message": code[1]}})

    def status_line(pce: str, echo: dict[str, Any], code: tuple[str, str]) -> str:
        return dumps({"pce": {"id_pce": pce}, "periode": echo, "releve_debut": None, "releve_fin": None,
                      "consommation": None, "statut_restitution": {"code": code[0], "message": code[1]}})

    async def consumption(request: Request, client: str, pce: str, kind: str) -> Response:
        params = dict(request.query_params) | {"_pce": pce}
        if not PCE_PATTERN.match(pce):
            raise data_400(params, codes.D_PCE_FORMAT)
        periode, start, end = period_of(params)
        years = 3 if kind == "informatives" else 5
        check_range(params, start, end, years)
        echo = {"valeur": periode, "date_debut": start.isoformat(), "date_fin": end.isoformat()}
        flag = "perim_donnees_informatives" if kind == "informatives" else "perim_donnees_publiees"
        right = resolve_right(client, pce, flag)
        if isinstance(right, tuple):
            return ndjson(sandbox, [status_line(pce, echo, right)], stream=False)
        customer = sandbox.customers[pce]
        lo = max(start, dt.date.fromisoformat(right["perim_donnees_conso_debut"]), customer.commissioning)
        hi = min(end, dt.date.fromisoformat(right["perim_donnees_conso_fin"]) + dt.timedelta(days=1),
                 sandbox.last_published_day() + dt.timedelta(days=1))
        lines = (informative_lines if kind == "informatives" else published_lines)(sandbox, customer, echo, lo, hi)
        if not lines:
            return ndjson(sandbox, [status_line(pce, echo, codes.D_NO_DATA)], stream=False)
        return ndjson(sandbox, lines, stream_error=status_line(pce, echo, codes.D_PARTIAL))

    @api.get("/pce/{id_pce}/donnees_consos_informatives")
    async def informatives(id_pce: str, request: Request, client: str = Depends(gate)) -> Response:
        return await consumption(request, client, id_pce, "informatives")

    @api.get("/pce/{id_pce}/donnees_consos_publiees")
    async def publiees(id_pce: str, request: Request, client: str = Depends(gate)) -> Response:
        return await consumption(request, client, id_pce, "publiees")

    def single_object(pce: str, key: str, flag: str, client: str, build: Any) -> JSONResponse:
        if not PCE_PATTERN.match(pce):
            raise ApiError(400, {"pce": {"id_pce": pce}, key: {},
                                 "statut_restitution": {"code": codes.D_PCE_FORMAT[0],
                                                        "message": codes.D_PCE_FORMAT[1]}})
        right = resolve_right(client, pce, flag)
        if isinstance(right, tuple):
            return JSONResponse({"pce": {"id_pce": pce}, key: None,
                                 "statut_restitution": {"code": right[0], "message": right[1]}})
        return JSONResponse({"pce": {"id_pce": pce}, key: build(sandbox.customers[pce]),
                             "statut_restitution": None})

    @api.get("/pce/{id_pce}/donnees_contractuelles")
    async def contractuelles(id_pce: str, request: Request, client: str = Depends(gate)) -> JSONResponse:
        filters = request.query_params.getlist("filtre")
        if any(f not in CONTRACT_FILTERS for f in filters):
            raise ApiError(400, {"pce": {"id_pce": id_pce}, "donnees_contractuelles": {},
                                 "statut_restitution": {"code": codes.D_BAD_FILTER[0],
                                                        "message": codes.D_BAD_FILTER[1]}})

        def build(customer: Customer) -> dict[str, Any]:
            data = contract_data(sandbox, customer)
            if filters:
                keep = {"profil" if f == "profil_type_actuel" else f for f in filters}
                data = {k: v for k, v in data.items() if k in keep}
            return data

        return single_object(id_pce, "donnees_contractuelles", "perim_donnees_contractuelles", client, build)

    @api.get("/pce/{id_pce}/donnees_techniques")
    async def techniques(id_pce: str, client: str = Depends(gate)) -> JSONResponse:
        return single_object(id_pce, "donnees_techniques", "perim_donnees_techniques", client, technical_data)

    for prefix in API_PREFIXES:
        app.include_router(api, prefix=prefix)

    app.include_router(control_router(sandbox))
    return app


def validate_declaration(sandbox: Sandbox, pce: str, body: dict[str, Any], client: str) -> dict[str, Any]:
    """PUT /pce/{id}/droit_acces checks, in the order the sandbox catalogue suggests (grdf-adict.md §7.4)."""
    today = sandbox.today()
    role = body.get("role_tiers")
    if role not in ROLES:
        raise gda_error(400, codes.ROLE_MISSING)
    name, company = (body.get("nom_titulaire") or "").strip(), (body.get("raison_sociale") or "").strip()
    if not name and not company:
        raise gda_error(400, codes.NAME_MISSING)
    if name and company:
        raise gda_error(400, codes.NAME_BOTH)
    authorised = role.startswith("AUTORISE")
    injection = role.endswith("INJECTION")
    email = body.get("courriel_titulaire")
    if authorised and not email:
        raise gda_error(400, codes.EMAIL_MISSING)
    if email and not (isinstance(email, str) and EMAIL.match(email)):
        raise gda_error(400, codes.EMAIL_FORMAT)
    phone = body.get("numero_telephone_mobile_titulaire")
    if phone and not (isinstance(phone, str) and MOBILE.match(phone)):
        raise gda_error(400, codes.PHONE_FORMAT)
    postcode = body.get("code_postal")
    if not postcode:
        raise gda_error(400, codes.POSTCODE_MISSING)
    if not (isinstance(postcode, str) and POSTCODE.match(postcode)):
        raise gda_error(400, codes.POSTCODE_FORMAT)

    access_start = access_end = None
    if authorised:
        access_start = parse_day(body.get("date_debut_droit_acces"))
        if access_start is None:
            raise gda_error(400, codes.ACCESS_START_FORMAT)
        access_end = parse_day(body.get("date_fin_droit_acces"))
        if access_end is None:
            raise gda_error(400, codes.ACCESS_END_FORMAT)
    flags: dict[str, str] = {}
    for key, code in (("perim_donnees_contractuelles", codes.PERIM_CONTRACTUAL),
                      ("perim_donnees_techniques", codes.PERIM_TECHNICAL),
                      ("perim_donnees_informatives", codes.PERIM_INFORMATIVE),
                      ("perim_donnees_publiees", codes.PERIM_PUBLISHED)):
        value = body.get(key)
        if value is None and not authorised:
            value = "Vrai"
        if not isinstance(value, str) or fold(value) not in ("VRAI", "FAUX"):
            raise gda_error(400, code)
        flags[key] = "Vrai" if fold(value) == "VRAI" else "Faux"
    perim_start = perim_end = inj_start = inj_end = None
    if injection:
        inj_start, inj_end = parse_day(body.get("perim_donnees_inj_debut")), parse_day(body.get("perim_donnees_inj_fin"))
        if inj_end is None:
            raise gda_error(400, codes.PERIM_INJ_END)
    else:
        perim_start = parse_day(body.get("perim_donnees_conso_debut"))
        perim_end = parse_day(body.get("perim_donnees_conso_fin"))
        if authorised and perim_start is None:
            raise gda_error(400, codes.PERIM_CONSO_START)
        if authorised and perim_end is None:
            raise gda_error(400, codes.PERIM_CONSO_END)
    if access_start is None:
        access_start, access_end = today, years_before(today, -5)
    assert access_end is not None
    if perim_start is None:
        perim_start, perim_end = years_before(today, 5), access_end
    assert perim_end is not None
    if access_end < today:
        raise gda_error(409, codes.ACCESS_END_PAST)
    if access_start > today:
        raise gda_error(409, codes.ACCESS_START_FUTURE)
    if perim_start > today:
        raise gda_error(409, codes.PERIM_START_FUTURE)
    if perim_end < perim_start:
        raise gda_error(409, codes.PERIM_END_BEFORE_START)
    if perim_end > access_end:
        raise gda_error(409, codes.PERIM_END_AFTER_ACCESS)

    if not PCE_PATTERN.match(pce):
        raise gda_error(400, codes.PCE_FORMAT)
    customer = sandbox.customers.get(pce)
    if customer is None:
        raise gda_error(404, codes.UNKNOWN_PCE)
    if postcode != customer.postal_code:
        raise gda_error(409, codes.POSTCODE_MISMATCH)
    if not holder_matches(customer, name, company):
        raise gda_error(409, codes.HOLDER_MISMATCH)
    if customer.supply_ended is not None and customer.supply_ended <= today:
        raise gda_error(409, codes.SUPPLY_ENDED)
    for other in sandbox.rights.values():
        if other["_client"] == client and other["id_pce"] == pce and other["role_tiers"] == role:
            if other["etat_droit_acces"] == "Active" and other["date_fin_droit_acces"] >= today.isoformat():
                raise gda_error(409, codes.RIGHT_EXISTS)
            if other["etat_droit_acces"] == "A valider":
                raise gda_error(409, codes.PENDING_EXISTS)

    return {
        "id_droit_acces": str(uuid.uuid4()), "id_pce": pce, "role_tiers": role,
        "raison_sociale_du_tiers": sandbox.config.tiers_name,
        "nom_titulaire": name or None, "raison_sociale_du_titulaire": company or None,
        "courriel_titulaire": email or None, "numero_telephone_mobile_titulaire": phone or None,
        "code_postal": postcode,
        "date_debut_droit_acces": access_start.isoformat(), "date_fin_droit_acces": access_end.isoformat(),
        "perim_donnees_conso_debut": None if injection else perim_start.isoformat(),
        "perim_donnees_conso_fin": None if injection else perim_end.isoformat(),
        "perim_donnees_inj_debut": inj_start.isoformat() if inj_start else None,
        "perim_donnees_inj_fin": inj_end.isoformat() if inj_end else None,
        **flags,
        "date_creation": sandbox.stamp(),
        "etat_droit_acces": "A valider" if authorised else "Active",
        "date_revocation": None, "source_revocation": None,
        "date_passage_a_obsolete": None, "source_passage_a_obsolete": None,
        "date_fin_autorisation": None, "date_passage_a_refuse": None, "source_passage_a_refuse": None,
        "parcours": "TIERS_DIRECT", "statut_controle_preuve": None, "date_limite_transmission_preuve": None,
        "_client": client, "_created": sandbox.now(),
    }


def holder_matches(customer: Customer, name: str, company: str) -> bool:
    """GRDF checks the declared holder against the supply contract; a natural person may add a first name."""
    if company:
        return customer.company_name is not None and fold(company) == fold(customer.company_name)
    if customer.holder_name is None:
        return False
    declared, expected = fold(name), fold(customer.holder_name)
    return declared == expected or expected in declared.split(" ") or declared in expected.split(" ")


def ndjson(sandbox: Sandbox, lines: list[str], stream_error: str | None = None, stream: bool = True) -> Response:
    """One JSON object per line; the next pending stream fault (if any) damages this body."""
    faults = sandbox.faults
    if stream:
        middle = len(lines) // 2
        if faults.take("truncated"):
            head = "\n".join(lines[:middle])
            cut = lines[middle][: max(1, len(lines[middle]) // 2)]
            return Response((head + "\n" if head else "") + cut, media_type="application/x-ndjson")
        if faults.take("malformed_line"):
            lines = lines[:middle] + [lines[middle].rstrip("}")] + lines[middle + 1:]
        elif stream_error is not None and faults.take("error_in_stream"):
            lines = lines[:middle] + [stream_error] + lines[middle + 1:]
    return Response("\n".join(lines) + "\n", media_type="application/x-ndjson")


def informative_lines(sandbox: Sandbox, customer: Customer, echo: dict[str, Any], lo: dt.date,
                      hi: dt.date) -> list[str]:
    series = customer.series()
    month_start = sandbox.today().replace(day=1)
    out = []
    day = lo
    while day < hi:
        gas_day = series.get(day)
        if gas_day is not None and not customer.in_hole(day):
            start_ts, end_ts = gas_day_bounds(day)
            out.append(dumps({
                "pce": {"id_pce": customer.pce}, "periode": echo,
                "releve_debut": {"date_releve": start_ts,
                                 "index_brut_debut": {"valeur_index": gas_day.index_start, "horodate_Index": start_ts},
                                 "index_converti_debut": {"valeur_index": None, "horodate_Index": None}},
                "releve_fin": {"date_releve": end_ts,
                               "index_brut_fin": {"valeur_index": gas_day.index_end, "horodate_Index": end_ts},
                               "index_converti_fin": {"valeur_index": None, "horodate_Index": None}},
                "consommation": {
                    "date_debut_consommation": start_ts, "date_fin_consommation": end_ts, "flag_retour_zero": None,
                    "volume_brut": gas_day.volume_brut,
                    "coeff_calcul": {"coeff_pta": None, "valeur_pcs": None,
                                     "coeff_conversion": gas_day.coeff_conversion},
                    "volume_converti": None, "energie": gas_day.energy_kwh,
                    "type_qualif_conso": "Estimé" if gas_day.estimated else "Mesuré",
                    "sens_flux_gaz": "Consommation",
                    "statut_conso": "Provisoire" if day >= month_start else "Définitive",
                    "journee_gaziere": day.isoformat(), "type_conso": "Informative Journalier"},
                "statut_restitution": None}))
        day += dt.timedelta(days=1)
    return out


def published_lines(sandbox: Sandbox, customer: Customer, echo: dict[str, Any], lo: dt.date,
                    hi: dt.date) -> list[str]:
    """Monthly publications (1M meters) whose gas month intersects [lo, hi) and is over."""
    series = customer.series()
    out = []
    month = lo.replace(day=1)
    while month < hi:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        if following - dt.timedelta(days=1) > sandbox.last_published_day():
            break
        days = [series[month + dt.timedelta(days=i)] for i in range((following - month).days)
                if month + dt.timedelta(days=i) in series]
        if days:
            first, last = days[0], days[-1]
            start_ts, _ = gas_day_bounds(first.day)
            _, end_ts = gas_day_bounds(last.day)
            energy = sum(d.energy_kwh for d in days)
            volume = last.index_end - first.index_start
            releve = {"raison_releve": "RNO", "libelle_raison_releve": "Relevé normal", "qualite_releve": "Mesure",
                      "statut_releve": "Normal"}
            out.append(dumps({
                "pce": {"id_pce": customer.pce}, "periode": echo,
                "releve_debut": {"date_releve": start_ts, **releve,
                                 "index_brut_debut": {"valeur_index": first.index_start, "horodate_Index": start_ts},
                                 "index_converti_debut": {"valeur_index": None, "horodate_Index": None}},
                "releve_fin": {"date_releve": end_ts, **releve,
                               "index_brut_fin": {"valeur_index": last.index_end, "horodate_Index": end_ts},
                               "index_converti_fin": {"valeur_index": None, "horodate_Index": None}},
                "consommation": {
                    "date_debut_consommation": start_ts, "date_fin_consommation": end_ts, "flag_retour_zero": False,
                    "volume_brut": volume,
                    "coeff_calcul": {"coeff_pta": None, "valeur_pcs": None,
                                     "coeff_conversion": round(energy / volume, 2) if volume else None},
                    "volume_converti": 0, "energie": energy, "type_qualif_conso": "Mesuré",
                    "sens_flux_gaz": "Consommation", "statut_conso": "Définitive", "journee_gaziere": None,
                    "type_conso": "Publiée"},
                "bordereau_publication": {"date_debut_bordereau": None, "date_fin_bordereau": None,
                                          "nb_jour_gazier": len(days)},
                "statut_restitution": None}))
        month = following
    return out


def contract_data(sandbox: Sandbox, customer: Customer) -> dict[str, Any]:
    car = customer.annual_kwh()
    profile = "P016" if customer.profile == "heating" else "P011"
    if customer.contract_format == "v1.6":
        return {"car": car, "cja": 0, "profil": {"profil_type_actuel": profile},
                "tarif_acheminement": customer.tariff(), "date_mes": customer.commissioning.isoformat()}
    april = dt.date(sandbox.today().year if sandbox.today().month >= 4 else sandbox.today().year - 1, 4, 1)
    return {
        "date_publication": april.isoformat(),
        "car": {"car_actuelle": car, "car_future": None},
        "cja": {"cja": 0, "cja_journaliere": None, "cja_mensuelle": None},
        "profil": {"profil_type_actuel": profile, "date_debut_profil_type_actuel": april.isoformat(),
                   "date_fin_profil_type_actuel": None, "profil_type_futur": None},
        "modulation": None,
        "consommation_journaliere_plafond": None,
        "tarif_acheminement": customer.tariff(),
        "date_mes": customer.commissioning.isoformat(),
    }


def technical_data(customer: Customer) -> dict[str, Any]:
    return {
        "situation_compteur": {"numero_rue": customer.street_number, "nom_rue": customer.street,
                               "complement_adresse": None, "code_postal": customer.postal_code,
                               "commune": customer.city},
        "caracteristiques_compteur": {"frequence": customer.frequency, "client_sensible_mig": "Non",
                                      "code_calibre": "G4",
                                      "matricule_compteur": f"GAZ{customer.pce[-6:]}"},
        "pitd": {"identifiant_pitd": "GD0381", "libelle_pitd": "GRENOBLE"},
    }


def control_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(prefix="/_sandbox")

    def fail(status: int, code: str, detail: str) -> ApiError:
        return ApiError(status, {"error": code, "detail": detail})

    @router.get("/clock")
    async def clock() -> dict[str, str]:
        return {"now": sandbox.now().isoformat(), "today": sandbox.today().isoformat()}

    @router.post("/clock")
    async def set_clock(request: Request) -> dict[str, str]:
        body = await request.json()
        if "now" in body:
            try:
                sandbox.set_now(dt.datetime.fromisoformat(body["now"]))
            except (TypeError, ValueError):
                raise fail(422, "bad_datetime", "now must be an ISO 8601 date-time") from None
        if "advance_seconds" in body:
            sandbox.offset += dt.timedelta(seconds=float(body["advance_seconds"]))
        return await clock()

    @router.post("/customers", status_code=201)
    async def create_customer(request: Request) -> dict[str, Any]:
        body = await request.json()
        pce = str(body.get("pce", ""))
        if not PCE_PATTERN.match(pce):
            raise fail(422, "bad_pce", "pce must match ^GI\\d{6}$|^\\d{14}$")
        if bool(body.get("holder_name")) == bool(body.get("company_name")):
            raise fail(422, "bad_holder", "give exactly one of holder_name, company_name")
        if not POSTCODE.match(str(body.get("postal_code", ""))):
            raise fail(422, "bad_postal_code", "postal_code must be 5 digits")
        profile = body.get("profile", "heating")
        if profile not in PROFILES:
            raise fail(422, "bad_profile", f"profile must be one of {PROFILES}")
        try:
            holes = [(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in body.get("holes", [])]
            commissioning = dt.date.fromisoformat(body["commissioning"]) if body.get("commissioning") else None
            ended = dt.date.fromisoformat(body["supply_ended"]) if body.get("supply_ended") else None
        except (TypeError, ValueError):
            raise fail(422, "bad_date", "dates must be YYYY-MM-DD") from None
        customer = Customer(pce=pce, postal_code=body["postal_code"], holder_name=body.get("holder_name"),
                            company_name=body.get("company_name"), profile=profile, holes=holes,
                            commissioning=commissioning or years_before(sandbox.today(), 6),
                            supply_ended=ended, city=body.get("city", "GRENOBLE"),
                            contract_format="v1.6" if body.get("contract_format") == "v1.6" else "v1.9")
        sandbox.customers[pce] = customer
        return {"pce": pce, "profile": profile, "car_kwh": customer.annual_kwh(), "tarif": customer.tariff(),
                "commissioning": customer.commissioning.isoformat()}

    @router.get("/ground_truth/{pce}")
    async def ground_truth(pce: str, start: str, end: str) -> dict[str, Any]:
        customer = sandbox.customers.get(pce)
        if customer is None:
            raise fail(404, "unknown_pce", pce)
        lo, hi = parse_day(start), parse_day(end)
        if lo is None or hi is None:
            raise fail(422, "bad_date", "start and end must be YYYY-MM-DD")
        series = customer.series()
        days = []
        day = lo
        while day < hi:
            gas_day = series.get(day)
            if gas_day is not None and not customer.in_hole(day):
                days.append({"day": day.isoformat(), "wh": gas_day.energy_kwh * 1000,
                             "volume_m3": gas_day.volume_brut, "coeff_conversion": gas_day.coeff_conversion,
                             "index_start": gas_day.index_start, "index_end": gas_day.index_end})
            day += dt.timedelta(days=1)
        return {"pce": pce, "start": lo.isoformat(), "end_exclusive": hi.isoformat(), "days": days}

    @router.post("/faults")
    async def add_fault(request: Request) -> dict[str, Any]:
        body = await request.json()
        kind = body.get("kind")
        faults = sandbox.faults
        count = int(body.get("count", 1))
        if kind in CALL_FAULTS or kind in STREAM_FAULTS:
            faults.counts[kind] = faults.counts.get(kind, 0) + count
            if kind == "http_429":
                faults.retry_after = int(body.get("retry_after", 1))
        elif kind == "outage":
            faults.outage_until = sandbox.now() + dt.timedelta(minutes=float(body.get("minutes", 5)))
        elif kind == "latency":
            faults.latency_seconds, faults.latency_count = float(body.get("seconds", 1.0)), count
        else:
            raise fail(422, "unknown_fault", f"kind must be one of {CALL_FAULTS + STREAM_FAULTS} outage latency")
        return await faults_state()

    @router.get("/faults")
    async def faults_state() -> dict[str, Any]:
        faults = sandbox.faults
        return {"counts": faults.counts, "latency_seconds": faults.latency_seconds,
                "latency_count": faults.latency_count,
                "outage_until": faults.outage_until.isoformat() if faults.outage_until else None}

    @router.delete("/faults")
    async def clear_faults() -> dict[str, Any]:
        sandbox.faults = Faults()
        return await faults_state()

    @router.post("/quotas")
    async def quotas(request: Request) -> dict[str, Any]:
        body = await request.json()
        if "rate_per_second" in body:
            sandbox.config.rate_per_second = body["rate_per_second"]
        if "daily_cap" in body:
            sandbox.config.daily_cap = body["daily_cap"]
        sandbox.last_call.clear()
        sandbox.daily_calls.clear()
        return {"rate_per_second": sandbox.config.rate_per_second, "daily_cap": sandbox.config.daily_cap}

    @router.get("/usage")
    async def usage() -> dict[str, int]:
        return {f"{client}/{day.isoformat()}": n for (client, day), n in sandbox.daily_calls.items()}

    @router.get("/mailbox")
    async def mailbox() -> list[dict[str, str]]:
        return sandbox.mailbox

    @router.get("/access_rights")
    async def all_rights() -> list[dict[str, Any]]:
        sandbox.expire_pending()
        return [public(r) for r in sandbox.rights.values()]

    def holder_action(access_right_id: str, action: str) -> dict[str, Any]:
        sandbox.expire_pending()
        right = sandbox.rights.get(access_right_id)
        if right is None:
            raise fail(404, "unknown_access_right", access_right_id)
        allowed = {"accept": ("A valider", "Active", "Titulaire"),
                   "refuse": ("A valider", "Refusée", "Le titulaire a refusé la demande d'accès."),
                   "revoke": ("Active", "Révoquée", "Titulaire"),
                   "obsolete": ("Active", "Obsolète", "Changement de titulaire du PCE.")}
        if action not in allowed:
            raise fail(404, "unknown_action", action)
        source_state, target, source = allowed[action]
        if right["etat_droit_acces"] != source_state:
            raise fail(409, "illegal_transition", f"{right['etat_droit_acces']} cannot {action}")
        sandbox.move(right, target, source)
        if action == "revoke":
            right["_revoked_by"] = "holder"
        return public(right)

    @router.post("/access_rights/{access_right_id}/{action}")
    async def control_action(access_right_id: str, action: str) -> dict[str, Any]:
        return holder_action(access_right_id, action)

    @router.get("/holder/{access_right_id}", response_class=HTMLResponse)
    async def holder_page(access_right_id: str) -> HTMLResponse:
        sandbox.expire_pending()
        right = sandbox.rights.get(access_right_id)
        if right is None:
            return HTMLResponse("<h1>Demande inconnue</h1>", status_code=404)
        esc = html.escape
        perimeters = "".join(f"<li>{esc(k.removeprefix('perim_donnees_'))}: {esc(str(right[k]))}</li>"
                             for k in ("perim_donnees_informatives", "perim_donnees_publiees",
                                       "perim_donnees_contractuelles", "perim_donnees_techniques"))
        buttons = ""
        if right["etat_droit_acces"] == "A valider":
            buttons = (f'<form method="post" action="/_sandbox/holder/{esc(access_right_id)}/accept">'
                       '<button type="submit" id="accept">J\'accepte</button></form>'
                       f'<form method="post" action="/_sandbox/holder/{esc(access_right_id)}/refuse">'
                       '<button type="submit" id="refuse">Je refuse</button></form>')
        return HTMLResponse(
            "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>GRDF – demande d'accès</title>"
            f"</head><body><h1>Demande d'accès à vos données gaz</h1><p>{esc(sandbox.config.tiers_name)} demande "
            f"l'accès aux données du PCE <strong>{esc(right['id_pce'])}</strong> du "
            f"{esc(right['date_debut_droit_acces'])} au {esc(right['date_fin_droit_acces'])}.</p>"
            f"<ul>{perimeters}</ul><p id=\"state\">État : {esc(right['etat_droit_acces'])}</p>{buttons}"
            "</body></html>")

    @router.post("/holder/{access_right_id}/{action}", response_class=HTMLResponse)
    async def holder_decision(access_right_id: str, action: str) -> HTMLResponse:
        if action not in ("accept", "refuse"):
            return HTMLResponse("<h1>Action inconnue</h1>", status_code=404)
        right = holder_action(access_right_id, action)
        return HTMLResponse(f"<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>GRDF</title>"
                            f"</head><body><p id=\"state\">État : {html.escape(right['etat_droit_acces'])}</p>"
                            "</body></html>")

    @router.post("/reset")
    async def reset() -> dict[str, str]:
        sandbox.rights.clear()
        sandbox.mailbox.clear()
        sandbox.faults = Faults()
        sandbox.last_call.clear()
        sandbox.daily_calls.clear()
        return {"status": "reset"}

    return router
