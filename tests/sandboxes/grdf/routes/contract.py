"""Données contractuelles and données techniques: one JSON object per PCE."""
from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from .. import codes
from ..gateway import ApiError, State, gate
from ..meters import PCE_PATTERN, Customer
from ..rights import resolve_right
from ..state import Sandbox

CONTRACT_FILTERS = ("car", "cja", "profil_type_actuel", "tarif_acheminement", "date_mes")

router = APIRouter()


def single_object(sandbox: Sandbox, pce: str, key: str, flag: str, client: str, build: Any) -> JSONResponse:
    if not PCE_PATTERN.match(pce):
        raise ApiError(400, {"pce": {"id_pce": pce}, key: {},
                             "statut_restitution": {"code": codes.D_PCE_FORMAT[0],
                                                    "message": codes.D_PCE_FORMAT[1]}})
    right = resolve_right(sandbox, client, pce, flag)
    if isinstance(right, tuple):
        return JSONResponse({"pce": {"id_pce": pce}, key: None,
                             "statut_restitution": {"code": right[0], "message": right[1]}})
    return JSONResponse({"pce": {"id_pce": pce}, key: build(sandbox.customers[pce]),
                         "statut_restitution": None})


@router.get("/pce/{id_pce}/donnees_contractuelles")
async def contractuelles(id_pce: str, request: Request, sandbox: State,
                        client: str = Depends(gate)) -> JSONResponse:
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

    return single_object(sandbox, id_pce, "donnees_contractuelles", "perim_donnees_contractuelles", client, build)


@router.get("/pce/{id_pce}/donnees_techniques")
async def techniques(id_pce: str, sandbox: State, client: str = Depends(gate)) -> JSONResponse:
    return single_object(sandbox, id_pce, "donnees_techniques", "perim_donnees_techniques", client,
                         technical_data)


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
