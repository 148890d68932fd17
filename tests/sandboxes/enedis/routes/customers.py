"""Customer data: the v5 contracts and addresses, and the 2026 ITC APIs (contract situation and synthesis,
metering device, general data), which take the PRM in the path."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..customers import DISTRIBUTION_TARIFF_LABEL, PRM_PATTERN, mix
from ..dates import offset_date, paris_datetime
from ..gateway import ApiError, Client, Sandbox, finish, v2_error, v5_error
from ..state import SandboxState

router = APIRouter()


def customer_meter(state: SandboxState, client_id: str, prm: str | None, shape: str):
    if prm:
        state.count_prm(prm, "customers")
    if shape == "v5":
        if not prm:
            raise v5_error("usage_point_id parameter is required.", "invalid_request")
        if not PRM_PATTERN.match(prm):
            raise v5_error("usage_point_id parameter must be 14 digits long.", "invalid_request")
    elif not prm or not PRM_PATTERN.match(prm):
        raise ApiError(500, {"code": "500", "message": "Problème technique dans l'interrogation du SI coeur"})
    meter = state.meters.get(prm)
    if meter is None or not state.consent_valid(client_id, prm):
        if shape == "v5":
            raise v5_error("No consent can be found for this customer and this usage point.", "ADAM-DC-0008", 403)
        raise v2_error(403, "Le client n'est pas autorisé pour le point demandé")
    if meter.direction != "consumption" and shape == "v5":
        raise v5_error("Unknown or unauthorized user", "STM-ERR-0000019", 404)
    return meter


def usage_point(meter) -> dict[str, Any]:
    return {"usage_point_id": meter.prm, "usage_point_status": "com", "meter_type": "AMM"}


async def itc_guard(request: Request, client_id: Client) -> str:
    if request.query_params:
        # The 2026 ITC APIs take the PRM in the path; anything outside the Swagger gets a 500.
        raise ApiError(500, {"code": "500", "message": "Problème technique dans l'interrogation du SI coeur"})
    return client_id


ItcClient = Annotated[str, Depends(itc_guard)]


@router.get("/customers_upc/v5/usage_points/contracts")
async def contracts_v5(request: Request, state: Sandbox, client_id: Client) -> Response:
    meter = customer_meter(state, client_id, request.query_params.get("usage_point_id"), "v5")
    c = meter.contract
    contracts = {"segment": "C5", "subscribed_power": f"{c.subscribed_kva} kVA",
                 "last_activation_date": offset_date(meter.activation_date),
                 "distribution_tariff": c.distribution_tariff, "contract_type": "Contrat GRD-F",
                 "contract_status": c.dso_status,
                 "last_distribution_tariff_change_date": offset_date(c.last_change)}
    if c.offpeak_hours:
        contracts["offpeak_hours"] = c.offpeak_hours
    body = {"customer": {"customer_id": f"{mix(meter.seed, 5) % 10**10:010d}",
                         "usage_points": [{"usage_point": usage_point(meter), "contracts": contracts}]}}
    return finish(state, body,
                  "application/octet-stream" if state.config.contracts_octet_stream else "application/json")


@router.get("/customers_upa/v5/usage_points/addresses")
async def addresses_v5(request: Request, state: Sandbox, client_id: Client) -> Response:
    meter = customer_meter(state, client_id, request.query_params.get("usage_point_id"), "v5")
    a = meter.address
    addresses = {"street": a.street, "postal_code": a.postal_code, "insee_code": a.insee_code,
                 "city": a.city, "country": a.country}
    if a.locality:
        addresses["locality"] = a.locality
    return finish(state, {"customer": {"customer_id": f"{mix(meter.seed, 5) % 10**10:010d}", "usage_points": [
        {"usage_point": {**usage_point(meter), "usage_point_addresses": addresses}}]}})


@router.get("/situation_contrat_auto/v1/{prm}")
async def situation_contractuelle(prm: str, state: Sandbox, client_id: ItcClient) -> Response:
    meter = customer_meter(state, client_id, prm, "2026")
    c = meter.contract
    if meter.direction == "production":
        return finish(state, [{"usage_point_id": prm, "contract_start": paris_datetime(
            dt.datetime.combine(c.contract_start, dt.time())), "contract_type": "Contrat GRD-A", "segment": "P4"}])
    return finish(state, [{
        "usage_point_id": prm,
        "contract_start": paris_datetime(dt.datetime.combine(c.contract_start, dt.time())),
        "contract_type": "Contrat GRD-F",
        "contract_status": c.dso_status,
        "distribution_tariff": DISTRIBUTION_TARIFF_LABEL[c.distribution_tariff],
        "subscribed_power": {"unit": "kVA", "value": str(c.subscribed_kva)},
        "segment": "C5",
    }])


@router.get("/synth_contrat_auto/v1/{prm}")
async def synthese_contractuelle(prm: str, state: Sandbox, client_id: ItcClient) -> Response:
    meter = customer_meter(state, client_id, prm, "2026")
    key = "generation" if meter.direction == "production" else "consumption"
    return finish(state, {"segments": [{"segment": "P4" if key == "generation" else "C5"}],
                          f"{key}_last_activation_date": paris_datetime(
                              dt.datetime.combine(meter.activation_date, dt.time())),
                          "last_subscribed_power_change_date": paris_datetime(
                              dt.datetime.combine(meter.contract.last_change, dt.time())),
                          "services_level": "Communicant (ouvert aux services)"})


@router.get("/comptage_auto/v1/{prm}")
async def situation_comptage(prm: str, state: Sandbox, client_id: ItcClient) -> Response:
    meter = customer_meter(state, client_id, prm, "2026")
    relais = {"plageHeuresCreuses": meter.contract.offpeak_hours} if meter.contract.offpeak_hours else {}
    return finish(state, {"dispositifComptage": {"typeComptage": {"code": "LINKY", "libelle": "Compteur Linky"},
                                                 "compteurs": [{"numeroSerie": f"{mix(meter.seed, 6):012d}",
                                                                "regimePropriete": "PROP"}],
                                                 "relais": relais}})


@router.get("/donnees_generales_auto/v1/{prm}")
async def donnees_generales(prm: str, state: Sandbox, client_id: ItcClient) -> Response:
    meter = customer_meter(state, client_id, prm, "2026")
    a = meter.address
    address = {"number_street_name": a.street, "postal_code_city": f"{a.postal_code} {a.city}",
               "insee_code": a.insee_code}
    if a.locality:
        address["locality"] = a.locality
    return finish(state, {"address": address})
