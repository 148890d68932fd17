"""Internal routes of the consent service: the gateway's, and where ingest-grdf reports a consent's state."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from consent import address, flows, repository, service, sharing, worker
from consent.lifecycle import Status
from consent.schemas import DsoStatus, ReadCheck, RevokeAll, ShareCreate
from metro.db import DbSession
from metro.errors import Forbidden
from metro.schemas.consent import (AddressDecision, AddressMismatch, ClaimRelease, ClaimReleased,
                                   ConsentHistory, ConsentView, Dwelling, FileConsent, MeterDeclaration,
                                   MeterView, SgeSubscription)
from metro.service_auth import Caller, acting_account, caller

router = APIRouter(prefix="/internal")
Account = Annotated[uuid.UUID, Depends(acting_account("gateway"))]
Gateway = Annotated[Caller, Depends(caller("gateway"))]
Connector = Annotated[Caller, Depends(caller("ingest_grdf", "ingest_local"))]
LocalConnector = Annotated[Caller, Depends(caller("ingest_local"))]
Session = DbSession


def outbox(request: Request):
    return request.app.state.runtime.outbox


@router.put("/dwelling", response_model=Dwelling)
async def put_dwelling(body: Dwelling, account: Account, session: Session, request: Request):
    rt = request.app.state.runtime
    dwelling = await service.put_dwelling(session, rt.outbox, account, body)
    await address.recheck_after_dwelling(session, rt.outbox, rt.services, account)
    return dwelling


@router.get("/dwelling", response_model=Dwelling)
async def get_dwelling(account: Account, session: Session):
    return await service.get_dwelling(session, account)


@router.post("/meters", response_model=MeterView, status_code=201)
async def declare_meter(body: MeterDeclaration, account: Account, session: Session, request: Request):
    rt = request.app.state.runtime
    meter, consent = await service.declare_meter(session, rt.outbox, account, body,
                                                 rt.settings.max_meters_per_account)
    url, warnings = None, []
    if meter.channel == "dataconnect":
        url = await flows.start_dataconnect(session, rt.outbox, rt.services, consent, rt.settings.consent_page_ttl)
    elif meter.channel == "adict":
        warnings = await flows.declare_adict(session, rt.outbox, rt.services, consent, meter, body.grdf_holder)
    consent = await service.repository.get_consent(session, consent.id)
    return service.meter_view(meter, consent).model_copy(update={"consent": service.consent_view(
        consent, authorize_url=url, warnings=warnings)})


@router.post("/meters/{meter_id}/consent", response_model=ConsentView, status_code=201)
async def renew_consent(meter_id: uuid.UUID, account: Account, session: Session, request: Request):
    rt = request.app.state.runtime
    return await flows.renew(session, rt.outbox, rt.services, account, meter_id, rt.settings.consent_page_ttl,
                             rt.settings.max_meters_per_account)


@router.get("/consents/enedis/callback")
async def dataconnect_callback(request: Request, who: Gateway, session: Session):
    rt = request.app.state.runtime
    return await flows.dataconnect_callback(session, rt.outbox, rt.services, who.principal,
                                            dict(request.query_params), worker.dso_backoff(rt.settings))


@router.get("/meters/{meter_id}/consents", response_model=list[ConsentHistory])
async def consent_history(meter_id: uuid.UUID, account: Account, session: Session):
    """Every consent of the meter with its full history: the resident's proof of what they agreed to."""
    await service.own_meter(session, account, meter_id)
    return await service.history(session, meter_id)


@router.post("/meters/{meter_id}/address-confirmation", response_model=ConsentView)
async def confirm_address(meter_id: uuid.UUID, account: Account, session: Session, request: Request):
    """The resident states the meter is theirs although the DSO's address differs from the dwelling's."""
    return await address.confirm_by_resident(session, outbox(request), account, meter_id)


@router.get("/admin/address-mismatches", response_model=list[AddressMismatch])
async def address_mismatches(who: Gateway, session: Session):
    if not who.principal.has("admin"):
        raise Forbidden("only an administrator sees address mismatches", code="forbidden_role")
    return await address.pending(session)


@router.post("/admin/address-mismatches/{meter_id}", response_model=ConsentView)
async def decide_address(meter_id: uuid.UUID, body: AddressDecision, who: Gateway,
                         session: Session, request: Request):
    return await address.decide(session, outbox(request), who.principal, meter_id, body.decision, body.note)


@router.post("/admin/meter-claims/release", response_model=ClaimReleased)
async def release_claim(body: ClaimRelease, who: Gateway, session: Session,
                        request: Request):
    if not who.principal.has("admin"):
        raise Forbidden("only an administrator releases a meter's claim", code="forbidden_role")
    return await service.release_claim(session, outbox(request), f"admin:{who.principal.account_id}",
                                       body.dso, body.identifier, body.note)


@router.post("/admin/sge-subscriptions", response_model=ConsentView, status_code=201)
async def sge_subscription(body: SgeSubscription, who: Gateway, session: Session,
                           request: Request):
    consent = await flows.record_sge_subscription(session, outbox(request), body.meter_id, body.reference,
                                                  body.consent_end, actor=f"admin:{who.principal.account_id}")
    return service.consent_view(consent)


@router.post("/consents/{consent_id}/dso-status")
async def dso_status(consent_id: uuid.UUID, body: DsoStatus, _: Connector, session: Session,
                     request: Request):
    """A connector reports what the DSO says of a consent (ADICT access right active, refused, ...; a local
    operator's first file naming the meter with a matching holder, or another holder)."""
    changed = await flows.dso_reported(session, outbox(request), consent_id, Status(body.status), reason=body.reason,
                                       evidence=body.evidence, values=body.values())
    return {"changed": changed}


@router.get("/file-consents", response_model=list[FileConsent])
async def file_consents(dso: str, _: LocalConnector, session: Session, request: Request):
    """A local operator's consented meters (and those withdrawn within a day), for the list ingest-local sends
    the operator and the holder check of its files."""
    return await service.file_consents(session, dso, request.app.state.runtime.settings.file_withdrawals_listed)


@router.get("/meters", response_model=list[MeterView])
async def list_meters(account: Account, session: Session):
    return await service.list_meters(session, account)


@router.get("/meters/{meter_id}", response_model=MeterView)
async def get_meter(meter_id: uuid.UUID, account: Account, session: Session):
    meter = await service.own_meter(session, account, meter_id)
    latest = await service.repository.latest_consents(session, [meter_id])
    return service.meter_view(meter, latest.get(meter_id))


@router.delete("/meters/{meter_id}/consent", response_model=ConsentView)
async def revoke(meter_id: uuid.UUID, account: Account, session: Session, request: Request):
    return await service.revoke_by_resident(session, outbox(request), account, meter_id)


@router.get("/accounts/{account_id}/meter-ids")
async def account_meter_ids(account_id: uuid.UUID, _: Gateway, session: Session):
    return {"meter_ids": [str(m) for m in await repository.account_meter_ids(session, account_id)]}


@router.post("/accounts/{account_id}/revoke-all")
async def revoke_all(account_id: uuid.UUID, body: RevokeAll, _: Gateway, session: Session,
                     request: Request):
    """Deletion starts here: every consent revoked at once, with what the resident must tell a DSO themselves."""
    return {"dso_actions": await service.revoke_all(session, outbox(request), account_id, body.reason)}


@router.post("/shares", status_code=201)
async def create_share(body: ShareCreate, account: Account, session: Session):
    return await sharing.create(session, account, body.adviser_id, body.adviser_name, body.scopes)


@router.get("/shares")
async def list_shares(account: Account, session: Session):
    return await sharing.list_for_resident(session, account)


@router.delete("/shares/{share_id}")
async def revoke_share(share_id: uuid.UUID, account: Account, session: Session):
    return await sharing.revoke(session, account, share_id)


@router.get("/advisers/{adviser_id}/shares")
async def adviser_shares(adviser_id: uuid.UUID, _: Gateway, session: Session):
    return await sharing.list_for_adviser(session, adviser_id)


@router.post("/reads", status_code=204)
async def authorize_read(body: ReadCheck, _: Gateway, session: Session):
    """Checks that a reader may see a resident's data and writes the access to the log in one transaction."""
    await sharing.authorize_read(session, body.reader_id, body.reader_role, body.reader_name, body.resident_id,
                                 body.scope, body.what)


@router.get("/access-log")
async def access_log(account: Account, session: Session):
    return await sharing.access_log_of(session, account)
