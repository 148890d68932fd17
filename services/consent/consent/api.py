"""Internal routes of the consent service: the gateway's, and where ingest-grdf reports a consent's state."""
from __future__ import annotations

import tempfile
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from consent import address, addresses, flows, orgs, renovations, repository, service, sharing, worker
from consent.lifecycle import Status
from consent.schemas import DsoStatus, NoteCreate, ReadCheck, RevokeAll, ShareCreate
from metro.db import DbSession
from metro.errors import Forbidden
from metro.schemas.consent import (AddressBaseImport, AddressDecision, AddressMismatch, AddressSuggestion, AdviceNote,
                                   ClaimRelease, ClaimReleased, ConsentHistory, ConsentView, Dwelling, FileConsent,
                                   MeterDeclaration, MeterView, SgeSubscription, SgeSubscriptionView, Share,
                                   ShareRenewal, SubscriptionEnd)
from metro.schemas.orgs import Building, BuildingCreate, Organisation, OrganisationCreate, OrgMembership
from metro.schemas.renovations import RenovationCreate, RenovationDeclared
from metro.service_auth import Caller, acting_account, caller

router = APIRouter(prefix="/internal")
Account = Annotated[uuid.UUID, Depends(acting_account("gateway"))]
Gateway = Annotated[Caller, Depends(caller("gateway"))]
Notify = Annotated[Caller, Depends(caller("notify"))]
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


@router.post("/dwelling/renovations", response_model=RenovationDeclared, status_code=201)
async def declare_dwelling_renovation(body: RenovationCreate, account: Account, session: Session, request: Request):
    return await renovations.on_dwelling(session, outbox(request), account, body)


@router.post("/orgs/{org_id}/buildings/{building_id}/renovations", response_model=RenovationDeclared,
             status_code=201)
async def declare_building_renovation(org_id: uuid.UUID, building_id: uuid.UUID, body: RenovationCreate,
                                      account: Account, session: Session, request: Request):
    return await renovations.on_building(session, outbox(request), account, org_id, building_id, body)


@router.get("/dwelling", response_model=Dwelling)
async def get_dwelling(account: Account, session: Session):
    return await service.get_dwelling(session, account)


@router.post("/meters", response_model=MeterView, status_code=201)
async def declare_meter(body: MeterDeclaration, account: Account, session: Session, request: Request):
    rt = request.app.state.runtime
    return await flows.declare(session, rt, account, body, rt.settings.max_meters_per_account)


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


def _admin(who: Caller, what: str) -> None:
    if not who.principal.has("admin"):
        raise Forbidden(f"only an administrator {what}", code="forbidden_role")


@router.get("/admin/sge-subscriptions", response_model=list[SgeSubscriptionView])
async def sge_subscriptions(who: Gateway, session: Session):
    _admin(who, "lists the SGE subscriptions")
    return await flows.sge_subscriptions(session)


@router.post("/admin/sge-subscriptions/{consent_id}/end", response_model=ConsentView)
async def end_sge_subscription(consent_id: uuid.UUID, body: SubscriptionEnd, who: Gateway, session: Session,
                               request: Request):
    _admin(who, "ends an SGE subscription")
    consent = await flows.end_sge_subscription(session, outbox(request), consent_id, body.note,
                                               actor=f"admin:{who.principal.account_id}")
    return service.consent_view(consent)


# The BAN's Isère file is about 100 MB uncompressed (20 MB gzipped).
MAX_ADDRESS_FILE_BYTES = 300_000_000


@router.post("/admin/address-base", response_model=AddressBaseImport)
async def import_addresses(who: Gateway, session: Session, request: Request, dry_run: bool = False):
    """The body is the BAN file (CSV or .csv.gz), spooled to disk past a few MB."""
    _admin(who, "imports the address base")
    with tempfile.SpooledTemporaryFile(max_size=16_000_000) as spooled:
        await addresses.spool(request.stream(), MAX_ADDRESS_FILE_BYTES, spooled)
        return await addresses.import_file(session, spooled, dry_run=dry_run)


@router.get("/addresses", response_model=list[AddressSuggestion])
async def search_addresses(_: Gateway, session: Session, q: Annotated[str, Query(max_length=200)],
                           limit: Annotated[int, Query(ge=1, le=addresses.MAX_SUGGESTIONS)] = addresses.MAX_SUGGESTIONS):
    return await addresses.search(session, q, limit)


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


@router.post("/shares", response_model=Share, status_code=201)
async def create_share(body: ShareCreate, account: Account, session: Session):
    return await sharing.create(session, account, body)


@router.get("/shares", response_model=list[Share])
async def list_shares(account: Account, session: Session):
    return await sharing.list_for_resident(session, account)


@router.delete("/shares/{share_id}", response_model=Share)
async def revoke_share(share_id: uuid.UUID, account: Account, session: Session):
    return await sharing.revoke(session, account, share_id)


@router.post("/shares/{share_id}/renewal", response_model=Share)
async def renew_share(share_id: uuid.UUID, body: ShareRenewal, account: Account, session: Session):
    return await sharing.renew(session, account, share_id, body.ends_on)


@router.get("/advisers/{adviser_id}/shares")
async def adviser_shares(adviser_id: uuid.UUID, _: Gateway, session: Session):
    return await sharing.list_for_adviser(session, adviser_id)


@router.post("/reads")
async def authorize_read(body: ReadCheck, _: Gateway, session: Session):
    """Checks that a reader may see a resident's data and writes the access to the log in one transaction;
    answers what the reader may see."""
    return {"scopes": await sharing.authorize_read(session, body.reader_id, body.reader_role, body.reader_name,
                                                   body.resident_id, body.scope, body.what)}


@router.get("/access-log")
async def access_log(account: Account, session: Session):
    return await sharing.access_log_of(session, account)


@router.post("/orgs", response_model=Organisation, status_code=201)
async def create_org(body: OrganisationCreate, account: Account, session: Session, request: Request):
    """The gateway has checked the professional role; the creator is the first manager."""
    return await orgs.create(session, outbox(request), account, body)


@router.get("/orgs")
async def my_orgs(account: Account, session: Session):
    return await orgs.mine(session, account)


@router.get("/orgs/{org_id}", response_model=Organisation)
async def get_org(org_id: uuid.UUID, account: Account, session: Session):
    return await orgs.get(session, account, org_id)


@router.put("/orgs/{org_id}/members", response_model=Organisation)
async def set_member(org_id: uuid.UUID, body: OrgMembership, account: Account, session: Session,
                     request: Request):
    return await orgs.set_member(session, outbox(request), account, org_id, body.account_id, body.role)


@router.delete("/orgs/{org_id}/members/{member_id}", status_code=204)
async def remove_member(org_id: uuid.UUID, member_id: uuid.UUID, account: Account, session: Session,
                        request: Request):
    await orgs.remove_member(session, outbox(request), account, org_id, member_id)


@router.post("/orgs/{org_id}/buildings", response_model=Building, status_code=201)
async def add_building(org_id: uuid.UUID, body: BuildingCreate, account: Account, session: Session):
    return await orgs.add_building(session, account, org_id, body)


@router.get("/orgs/{org_id}/buildings", response_model=list[Building])
async def list_buildings(org_id: uuid.UUID, account: Account, session: Session):
    return await orgs.buildings(session, account, org_id)


@router.get("/orgs/{org_id}/portfolio", response_model=list[Building])
async def org_portfolio(org_id: uuid.UUID, who: Notify, session: Session):
    """Notify's weekly digest: the organisation's buildings and meters, for the platform (no member acts)."""
    return await orgs.buildings(session, None, org_id)


@router.post("/orgs/{org_id}/buildings/{building_id}/meters", response_model=MeterView, status_code=201)
async def declare_building_meter(org_id: uuid.UUID, building_id: uuid.UUID, body: MeterDeclaration,
                                 account: Account, session: Session, request: Request):
    """A manager declares a meter the organisation holds, attached to one of its buildings; the consent is the
    organisation's (the manager gives it at the DSO's page for the organisation)."""
    rt = request.app.state.runtime
    await orgs.building(session, account, org_id, building_id, need=orgs.OrgRole.manager)
    meter = await flows.declare(session, rt, org_id, body, rt.settings.max_meters_per_organisation)
    await repository.attach_meter(session, building_id, meter.id)
    return meter
def _adviser(who: Caller) -> uuid.UUID:
    if who.principal is None or who.principal.account_id is None or not who.principal.has("adviser"):
        raise Forbidden("only an energy adviser writes advice", code="forbidden_role")
    return who.principal.account_id


@router.post("/advice", response_model=AdviceNote, status_code=201)
async def write_advice(body: NoteCreate, who: Gateway, session: Session):
    return await sharing.write_note(session, _adviser(who), body.resident_id, body.body)


@router.get("/advice/written", response_model=list[AdviceNote])
async def advice_written(resident_id: uuid.UUID, who: Gateway, session: Session):
    """The notes the acting adviser wrote to one resident who shares with them."""
    return await sharing.notes_by(session, _adviser(who), resident_id)


@router.get("/advice", response_model=list[AdviceNote])
async def my_advice(account: Account, session: Session):
    return await sharing.notes_to(session, account)


@router.delete("/advice/{note_id}", status_code=204)
async def delete_advice(note_id: uuid.UUID, account: Account, session: Session):
    await sharing.delete_note(session, account, note_id)
