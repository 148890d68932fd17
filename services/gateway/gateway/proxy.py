"""Public operations served by the internal services: the gateway authenticates, then forwards with a
service token naming the account."""
from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from gateway.auth import User, VerifiedUser
from gateway.meters import with_collection
from metro.errors import AddressUnconfirmed, AppError, Conflict, Forbidden, NotFound, error_responses
from metro.schemas import IsoDate
from metro.schemas.consent import (AddressSuggestion, ConsentHistory, ConsentView, Dwelling, MeterDeclaration,
                                   MeterView)
from metro.schemas.consumption import ConsumptionSeries, Step
from metro.schemas.renovations import RenovationCreate, RenovationDeclared, RenovationFigures

router = APIRouter(prefix="/api/v1")


def services(request: Request):
    return request.app.state.runtime.services


@router.put("/me/dwelling", response_model=Dwelling, tags=["dwelling"])
async def put_dwelling(body: Dwelling, who: User, request: Request):
    """Describe the dwelling; meters whose DSO address differed are checked again against it."""
    return await services(request).json("consent", "PUT", "/internal/dwelling", principal=who.principal,
                                        json=body.model_dump(mode="json"))


@router.get("/addresses", response_model=list[AddressSuggestion], tags=["dwelling"],
            responses=error_responses(AppError))
async def addresses(who: User, request: Request, q: Annotated[str, Query(max_length=200, description=(
        "what the resident typed: number, street, postal code or municipality, in any order"))],
                    limit: Annotated[int, Query(ge=1, le=10)] = 10):
    """Address autocomplete from the address base (Base Adresse Nationale, the Métropole's 49 municipalities):
    each suggestion with its street, postal code, municipality and INSEE code, as `PUT /me/dwelling` takes them.
    422 `address_query_too_short` under 3 letters or digits."""
    return await services(request).json("consent", "GET", "/internal/addresses", params={"q": q, "limit": limit})


@router.post("/me/dwelling/renovations", response_model=RenovationDeclared, status_code=201, tags=["dwelling"],
             responses=error_responses(NotFound))
async def declare_renovation(body: RenovationCreate, who: User, request: Request):
    """Déclarer des travaux de rénovation du logement (date de fin, nature parmi une liste fixe, programme
    éventuel) / Declare renovation works on the dwelling (day they ended, kind of works from a fixed list,
    optional programme). The dwelling must be described first (404 `dwelling_not_found`); its meters' 12 months
    before are then weighed against the 12 after, weather-normalised (`GET /me/dwelling/renovations`)."""
    return await services(request).json("consent", "POST", "/internal/dwelling/renovations",
                                        principal=who.principal, json=body.model_dump(mode="json"))


@router.get("/me/dwelling/renovations", response_model=list[RenovationFigures], tags=["dwelling"])
async def dwelling_renovations(who: User, request: Request):
    """Consommation avant/après travaux / Consumption before and after the works: for each renovation declared,
    the kWh of the 12 whole months before the works' month and of the 12 after it, weather-normalised and scaled
    to 12 months, the change in %, each side's completeness and the confidence it gives."""
    return await services(request).json("consumption", "GET", "/internal/renovations", principal=who.principal)


@router.get("/me/dwelling", response_model=Dwelling, tags=["dwelling"], responses=error_responses(NotFound))
async def get_dwelling(who: User, request: Request):
    return await services(request).json("consent", "GET", "/internal/dwelling", principal=who.principal)


@router.post("/meters", response_model=MeterView, status_code=201, tags=["meters"],
             responses=error_responses(Conflict, AppError, Forbidden))
async def declare_meter(body: MeterDeclaration, who: VerifiedUser, request: Request):
    """Declares a meter and starts its consent with the DSO: needs a verified e-mail address (403
    `email_not_verified`). A meter of a local operator (`greenalp` electricity or gas, `cciag` heat as
    `SST0042-L017`, `eau_de_grenoble` water; channel `file`) needs `local_holder` (the contract reference on the
    bill and the holder's name, 422 `local_holder_required`): its consent stays `requested` until the operator's
    first file names the meter with the same holder (then `active`), or another holder (`invalid`, reason
    `holder_mismatch`)."""
    return await services(request).json("consent", "POST", "/internal/meters", principal=who.principal,
                                        json=body.model_dump(mode="json"))


ADDRESS_CHECK_DOC = (
    "`consent.address_check` compares the DSO's address of the meter with the dwelling: `match`, `unknown`, "
    "`mismatch` (its data is withheld; `consent.warnings` says which part differs: "
    "`address_municipality_mismatch`, `address_postal_code_mismatch`, `address_street_mismatch`), "
    "`resident_confirmed` (the resident says the meter is theirs; still withheld until an administrator "
    "reviews it), `cleared` or `rejected` by an administrator. A consent given at the Enedis page that "
    "Enedis has not listed yet stays `awaiting_holder` with reason and warning `dso_confirming` while it is "
    "asked again.")


@router.get("/meters", response_model=list[MeterView], tags=["meters"], description=ADDRESS_CHECK_DOC)
async def list_meters(who: User, request: Request):
    """Each meter with its consent, the last day collected and the data's freshness, and its contract."""
    listed = await services(request).json("consent", "GET", "/internal/meters", principal=who.principal)
    return await with_collection(services(request), who.principal, listed)


@router.get("/meters/{meter_id}", response_model=MeterView, tags=["meters"], responses=error_responses(NotFound),
            description=ADDRESS_CHECK_DOC)
async def get_meter(meter_id: uuid.UUID, who: User, request: Request):
    meter = await services(request).json("consent", "GET", f"/internal/meters/{meter_id}",
                                         principal=who.principal)
    return (await with_collection(services(request), who.principal, [meter]))[0]


@router.delete("/meters/{meter_id}/consent", response_model=ConsentView, tags=["meters"],
               responses=error_responses(NotFound, Conflict))
async def revoke_consent(meter_id: uuid.UUID, who: User, request: Request):
    return await services(request).json("consent", "DELETE", f"/internal/meters/{meter_id}/consent",
                                        principal=who.principal)


@router.get("/meters/{meter_id}/consumption", response_model=ConsumptionSeries, tags=["consumption"],
            responses=error_responses(NotFound, AppError, AddressUnconfirmed))
async def consumption(meter_id: uuid.UUID, who: User, request: Request,
                      start: Annotated[IsoDate, Query(alias="from")], end: Annotated[IsoDate, Query(alias="to")],
                      step: Step = Step.day):
    """Daily to yearly kWh and euros over [from, to). 422 `invalid_period` unless `to` is after `from`, and
    `period_too_long` beyond 3 years of days, 10 of weeks, 20 of months or 50 of years. 409 `address_unconfirmed`
    while the meter's DSO address differs from the dwelling and nobody has resolved it."""
    # Passed through as received: a year of days is the most requested body, validated where it is built.
    upstream = await services(request).send(
        "consumption", "GET", f"/internal/meters/{meter_id}/consumption", principal=who.principal,
        params={"from": start.isoformat(), "to": end.isoformat(), "step": step.value})
    return Response(upstream.content, media_type="application/json")


@router.post("/meters/{meter_id}/address-confirmation", response_model=ConsentView, tags=["meters"],
             responses=error_responses(NotFound, Conflict))
async def confirm_address(meter_id: uuid.UUID, who: User, request: Request):
    """The resident confirms the meter supplies their dwelling although the DSO's address differs: the
    statement is kept in the consent's history (`address_check` `resident_confirmed`) and its data is shown
    once an administrator has reviewed it. 409 `address_not_in_question` when the address is not in
    question."""
    return await services(request).json("consent", "POST", f"/internal/meters/{meter_id}/address-confirmation",
                                        principal=who.principal)


@router.post("/meters/{meter_id}/consent", response_model=ConsentView, status_code=201, tags=["meters"],
             responses=error_responses(NotFound, Conflict, Forbidden))
async def renew_consent(meter_id: uuid.UUID, who: VerifiedUser, request: Request):
    """Ask for a new consent for the same meter (after a refusal, an expiry or a revocation, or to extend it);
    for Enedis the answer carries the consent page's address. Needs a verified e-mail address (403
    `email_not_verified`)."""
    return await services(request).json("consent", "POST", f"/internal/meters/{meter_id}/consent",
                                        principal=who.principal)


@router.get("/meters/{meter_id}/consents", response_model=list[ConsentHistory], tags=["meters"],
            responses=error_responses(NotFound))
async def consent_history(meter_id: uuid.UUID, who: User, request: Request):
    """Every consent given for the meter, with each change, who made it and the DSO's evidence."""
    return await services(request).json("consent", "GET", f"/internal/meters/{meter_id}/consents",
                                        principal=who.principal)


DsoAnswer = Annotated[str | None, Query(max_length=500)]


@router.get("/consents/enedis/callback", tags=["meters"], status_code=303, response_class=RedirectResponse,
            responses={303: {"description": "back to the meters page with the outcome"}})
async def enedis_callback(who: User, request: Request, state: Annotated[str | None, Query(max_length=200)] = None,
                          code: DsoAnswer = None, usage_point_id: DsoAnswer = None, autorisation_id: DsoAnswer = None,
                          error: DsoAnswer = None, error_description: DsoAnswer = None):
    """Where the Enedis consent page sends the resident back; the single-use `state` ties the answer to the
    account that asked for it. Every outcome, an error included, is a redirection to the meters page."""
    try:
        result = await services(request).json("consent", "GET", "/internal/consents/enedis/callback",
                                              principal=who.principal, params=dict(request.query_params))
    except AppError as exc:
        return RedirectResponse(f"/meters?{urlencode({'consent': 'error', 'error': exc.code})}", status_code=303)
    query = {"consent": result["status"], "meter": result["meter_id"]}
    if result.get("warnings"):
        query["warnings"] = ",".join(result["warnings"])
    return RedirectResponse(f"/meters?{urlencode(query)}", status_code=303)
