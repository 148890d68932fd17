"""Droits d'accès (GDA): declare a right on a PCE, list, revoke, and the proofs GRDF never asks for."""
from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from .. import codes
from ..gateway import State, dumps, gate, gda_error, ndjson
from ..rights import public, validate_declaration
from ..state import Sandbox

router = APIRouter()


@router.put("/pce/{id_pce}/droit_acces", status_code=201)
async def declare(id_pce: str, request: Request, sandbox: State, client: str = Depends(gate)) -> JSONResponse:
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


async def list_rights(sandbox: Sandbox, client: str, filters: dict[str, list[str]]) -> Response:
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


@router.get("/droits_acces")
async def list_all(sandbox: State, client: str = Depends(gate)) -> Response:
    return await list_rights(sandbox, client, {})


@router.post("/droits_acces")
async def list_filtered(request: Request, sandbox: State, client: str = Depends(gate)) -> Response:
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
    return await list_rights(sandbox, client, filters)


@router.patch("/droit_acces/{id_droit_acces}")
async def revoke(id_droit_acces: str, sandbox: State, client: str = Depends(gate)) -> JSONResponse:
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


@router.put("/droit_acces/{id_droit_acces}/preuves")
async def proofs(id_droit_acces: str, sandbox: State, client: str = Depends(gate)) -> JSONResponse:
    right = sandbox.rights.get(id_droit_acces)
    if right is None or right["_client"] != client:
        raise gda_error(404, codes.NO_RIGHT_FOUND)
    raise gda_error(409, codes.PROOF_NOT_ASKED)
