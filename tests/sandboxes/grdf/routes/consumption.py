"""Données de consommation: informative (daily, 3 years back) and published (monthly, 5 years back), as NDJSON."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from .. import codes
from ..gateway import ApiError, State, dumps, gate, ndjson, parse_day
from ..meters import PCE_PATTERN, Customer, gas_day_bounds, years_before
from ..rights import resolve_right
from ..state import Sandbox

PERIOD = re.compile(r"(^\d{4}$)|(^PN-\d{4}$)|(^\d{4}-\d{2}$)|(^PN-\d{4}-\d{2}$)|(^\d{4}-W\d{2}$)|"
                    r"(^PN-\d{4}-W\d{2}$)|(^PN-\d{4}-W\d{2}-\d{1}$)|(^\d{4}-\d{3})$")

router = APIRouter()


def period_of(sandbox: Sandbox, params: dict[str, str]) -> tuple[str | None, dt.date, dt.date]:
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


def check_range(sandbox: Sandbox, params: dict[str, str], start: dt.date, end: dt.date, years: int) -> None:
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


async def consumption(request: Request, sandbox: Sandbox, client: str, pce: str, kind: str) -> Response:
    params = dict(request.query_params) | {"_pce": pce}
    if not PCE_PATTERN.match(pce):
        raise data_400(params, codes.D_PCE_FORMAT)
    periode, start, end = period_of(sandbox, params)
    years = 3 if kind == "informatives" else 5
    check_range(sandbox, params, start, end, years)
    echo = {"valeur": periode, "date_debut": start.isoformat(), "date_fin": end.isoformat()}
    flag = "perim_donnees_informatives" if kind == "informatives" else "perim_donnees_publiees"
    right = resolve_right(sandbox, client, pce, flag)
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


@router.get("/pce/{id_pce}/donnees_consos_informatives")
async def informatives(id_pce: str, request: Request, sandbox: State, client: str = Depends(gate)) -> Response:
    return await consumption(request, sandbox, client, id_pce, "informatives")


@router.get("/pce/{id_pce}/donnees_consos_publiees")
async def publiees(id_pce: str, request: Request, sandbox: State, client: str = Depends(gate)) -> Response:
    return await consumption(request, sandbox, client, id_pce, "publiees")


def informative_lines(sandbox: Sandbox, customer: Customer, echo: dict[str, Any], lo: dt.date,
                      hi: dt.date) -> list[str]:
    series = customer.series()
    month_start = sandbox.today().replace(day=1)
    failing = sandbox.faults.take_failing(customer.pce, lo, hi)
    out = []
    day = lo
    while day < hi:
        gas_day = series.get(day)
        fault = next((f for f in failing if f.first <= day < f.end), None)
        if fault is not None:
            # One retry line where the failing days' lines would be; the stream goes on after it.
            if day == max(fault.first, lo):
                named = echo if fault.echo else {"valeur": None, "date_debut": day.isoformat(),
                                                 "date_fin": min(fault.end, hi).isoformat()}
                out.append(status_line(customer.pce, named, fault.code))
        elif gas_day is not None and not customer.in_hole(day):
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
