"""Services souscrits (Data Connect 2026): what a v2 consent's autorisation_id resolves to."""
from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..gateway import ApiError, Client, Sandbox, finish

router = APIRouter()


async def subscribed_services(request: Request, state: Sandbox, client_id: Client) -> Response:
    try:
        query = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ApiError(400, {"code": "400", "message": "Requête invalide"})
    if not isinstance(query, dict) or "comptage" not in query or "autorisationId" not in query:
        raise ApiError(400, {"code": "400", "message": "Les paramètres autorisationId et comptage sont obligatoires"})
    autorisation = state.autorisations.get(int(query["autorisationId"] or 0))
    if autorisation is not None and autorisation.client_id != client_id:
        autorisation = None
    services = []
    if autorisation is not None:
        state.count_prm(autorisation.prm, "subscriptions")
    if autorisation is not None and state.faults.empty_listing_next:
        # Just after a consent the list can still be empty (the DSO notes: clients retry).
        state.faults.empty_listing_next -= 1
    elif autorisation is not None:
        consent = state.consents.get((client_id, autorisation.prm))
        etat = "ACTIF" if consent is not None and consent.valid(state.clock.now()) else "TERMINE"
        wanted = query.get("etatCode") or ["ACTIF", "DEMANDE"]
        meter = state.meters[autorisation.prm]
        if etat in wanted:
            services.append({
                "id": str(autorisation.autorisation_id), "injection": meter.direction == "production",
                "soutirage": meter.direction == "consumption", "serviceCode": "ACCES",
                "dateDebut": autorisation.start.isoformat(), "dateFin": autorisation.end.isoformat(),
                "etatCode": etat, "etatLibelle": etat.capitalize(), "pointId": autorisation.prm,
                "mesuresTypeCode": "ENERGIE", "mesuresPas": "P1D", "periodiciteTransmission": "P1D",
                "mesuresCorrigees": False, "espaceDynamique": False, "publicationDonnees": False,
                "autorisation": {"autorisationId": autorisation.autorisation_id,
                                 "autorisationLibelle": "Consentement client", "autorisationType": "EXPLICITE"}})
    if query.get("comptage"):
        return finish(state, {"nbTotalServices": len(services)})
    return finish(state, {"nbTotalServices": len(services), "serviceSouscrit": services})


for path in ("/subscribed_services/v1/", "/subscribed_services/v1"):
    router.add_api_route(path, subscribed_services, methods=["POST"])
