"""The control API under /_sandbox/: clock, customers, ground truth, injected faults, quotas, the mailbox and the
holder's side of an access right (the consent page GRDF e-mails). Not part of ADICT."""
from __future__ import annotations

import datetime as dt
import html
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .. import codes
from ..gateway import ApiError, State, parse_day
from ..meters import PCE_PATTERN, PROFILES, Customer, years_before
from ..rights import POSTCODE, public
from ..state import FailingPeriod, Faults, Sandbox

STREAM_FAULTS = ("truncated", "malformed_line", "error_in_stream")
CALL_FAULTS = ("http_500", "http_429")
RETRY_CODES = {c[0]: c for c in (codes.D_PARTIAL, codes.D_SERVER)}

router = APIRouter(prefix="/_sandbox")


def fail(status: int, code: str, detail: str) -> ApiError:
    return ApiError(status, {"error": code, "detail": detail})


@router.get("/clock")
async def clock(sandbox: State) -> dict[str, str]:
    return {"now": sandbox.now().isoformat(), "today": sandbox.today().isoformat()}


@router.post("/clock")
async def set_clock(request: Request, sandbox: State) -> dict[str, str]:
    body = await request.json()
    if "now" in body:
        try:
            sandbox.set_now(dt.datetime.fromisoformat(body["now"]))
        except (TypeError, ValueError):
            raise fail(422, "bad_datetime", "now must be an ISO 8601 date-time") from None
    if "advance_seconds" in body:
        sandbox.offset += dt.timedelta(seconds=float(body["advance_seconds"]))
    return await clock(sandbox)


@router.post("/customers", status_code=201)
async def create_customer(request: Request, sandbox: State) -> dict[str, Any]:
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
async def ground_truth(pce: str, start: str, end: str, sandbox: State) -> dict[str, Any]:
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
async def add_fault(request: Request, sandbox: State) -> dict[str, Any]:
    body = await request.json()
    kind = body.get("kind")
    faults = sandbox.faults
    count = int(body["count"]) if body.get("count") is not None else 1
    if kind in CALL_FAULTS or kind in STREAM_FAULTS:
        faults.counts[kind] = faults.counts.get(kind, 0) + count
        if kind == "http_429":
            faults.retry_after = int(body.get("retry_after", 1))
    elif kind == "outage":
        faults.outage_until = sandbox.now() + dt.timedelta(minutes=float(body.get("minutes", 5)))
    elif kind == "latency":
        faults.latency_seconds, faults.latency_count = float(body.get("seconds", 1.0)), count
    elif kind == "failing_period":
        faults.failing.append(failing_period(body))
    else:
        raise fail(422, "unknown_fault",
                   f"kind must be one of {CALL_FAULTS + STREAM_FAULTS} outage latency failing_period")
    return await faults_state(sandbox)


def failing_period(body: dict[str, Any]) -> FailingPeriod:
    """{"pce", "start", "end" (exclusive, default start + 1 day), "count" (answers, default always),
    "code" (2000100 or 2000000), "echo_period"}: those days of the PCE answered by a retry-code line."""
    first = parse_day(body.get("start"))
    end = parse_day(body["end"]) if body.get("end") else first and first + dt.timedelta(days=1)
    if first is None or end is None or end <= first:
        raise fail(422, "bad_date", "start (and end, exclusive, after it) must be YYYY-MM-DD")
    code = RETRY_CODES.get(str(body.get("code", codes.D_PARTIAL[0])))
    if code is None:
        raise fail(422, "bad_code", f"code must be one of {sorted(RETRY_CODES)}")
    count = body.get("count")
    return FailingPeriod(pce=str(body.get("pce")), first=first, end=end, code=code,
                         remaining=None if count is None else int(count), echo=bool(body.get("echo_period")))


@router.get("/faults")
async def faults_state(sandbox: State) -> dict[str, Any]:
    faults = sandbox.faults
    return {"counts": faults.counts, "latency_seconds": faults.latency_seconds,
            "latency_count": faults.latency_count, "failing_periods": [f.public() for f in faults.failing],
            "outage_until": faults.outage_until.isoformat() if faults.outage_until else None}


@router.delete("/faults")
async def clear_faults(sandbox: State) -> dict[str, Any]:
    sandbox.faults = Faults()
    return await faults_state(sandbox)


@router.post("/quotas")
async def quotas(request: Request, sandbox: State) -> dict[str, Any]:
    body = await request.json()
    if "rate_per_second" in body:
        sandbox.config.rate_per_second = body["rate_per_second"]
    if "daily_cap" in body:
        sandbox.config.daily_cap = body["daily_cap"]
    sandbox.last_call.clear()
    sandbox.daily_calls.clear()
    return {"rate_per_second": sandbox.config.rate_per_second, "daily_cap": sandbox.config.daily_cap}


@router.get("/usage")
async def usage(sandbox: State) -> dict[str, int]:
    return {f"{client}/{day.isoformat()}": n for (client, day), n in sandbox.daily_calls.items()}


@router.get("/mailbox")
async def mailbox(sandbox: State) -> list[dict[str, str]]:
    return sandbox.mailbox


@router.get("/access_rights")
async def all_rights(sandbox: State) -> list[dict[str, Any]]:
    sandbox.expire_pending()
    return [public(r) for r in sandbox.rights.values()]


def holder_action(sandbox: Sandbox, access_right_id: str, action: str) -> dict[str, Any]:
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
async def control_action(access_right_id: str, action: str, sandbox: State) -> dict[str, Any]:
    return holder_action(sandbox, access_right_id, action)


@router.get("/holder/{access_right_id}", response_class=HTMLResponse)
async def holder_page(access_right_id: str, sandbox: State) -> HTMLResponse:
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
async def holder_decision(access_right_id: str, action: str, sandbox: State) -> HTMLResponse:
    if action not in ("accept", "refuse"):
        return HTMLResponse("<h1>Action inconnue</h1>", status_code=404)
    right = holder_action(sandbox, access_right_id, action)
    return HTMLResponse(f"<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>GRDF</title>"
                        f"</head><body><p id=\"state\">État : {html.escape(right['etat_droit_acces'])}</p>"
                        "</body></html>")


@router.post("/reset")
async def reset(sandbox: State) -> dict[str, str]:
    sandbox.rights.clear()
    sandbox.mailbox.clear()
    sandbox.faults = Faults()
    sandbox.last_call.clear()
    sandbox.daily_calls.clear()
    return {"status": "reset"}
