"""Organisations (municipalities, landlords, companies): members with a role, buildings, and the meters they
hold. An organisation holds its meters as a resident does: the meter's and its consents' ``account_id`` is
the organisation's id, so every channel (Data Connect, SGE, ADICT with ``raison_sociale``) and every service
downstream treat it like any holder. Its members act for it: a manager declares, a viewer reads. Whoever is
not a member learns nothing, not even that the organisation exists (404)."""
from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consent import repository, service
from metro.errors import Conflict, Forbidden, NotFound
from metro.events import OrgMemberChanged
from metro.outbox import Outbox
from metro.schemas.orgs import Building, BuildingCreate, Organisation, OrganisationCreate, OrgRole


async def role_in(session: AsyncSession, org_id: uuid.UUID, account_id: uuid.UUID, *,
                  need: OrgRole = OrgRole.viewer) -> OrgRole:
    """The account's role in the organisation, refused unless it is at least ``need``."""
    role = await repository.member_role(session, org_id, account_id)
    if role is None:
        raise NotFound("no such organisation", code="org_not_found")
    if need is OrgRole.manager and role != OrgRole.manager:
        raise Forbidden("only a manager of the organisation may do this", code="org_manager_required")
    return OrgRole(role)


async def may_act_for(session: AsyncSession, account_id: uuid.UUID, holder_id: uuid.UUID) -> bool:
    """Whether the account may give consent for the holder: its own meters, or its organisation's as manager."""
    if account_id == holder_id:
        return True
    return await repository.member_role(session, holder_id, account_id) == OrgRole.manager


async def _announce(session: AsyncSession, outbox: Outbox, org_id: uuid.UUID, member_id: uuid.UUID,
                    role: OrgRole | None) -> None:
    """Tells notify who the members are (it e-mails them the weekly excess digest)."""
    org = await repository.get_organisation(session, org_id)
    await outbox.add(session, OrgMemberChanged(org_id=org_id, org_name=org.name, account_id=member_id,
                                               role=role.value if role else None))


async def create(session: AsyncSession, outbox: Outbox, account_id: uuid.UUID,
                 body: OrganisationCreate) -> Organisation:
    org_id = uuid.uuid4()
    await repository.insert_organisation(session, {"id": org_id, **body.model_dump(mode="json")})
    await repository.upsert_member(session, org_id, account_id, OrgRole.manager.value)
    await _announce(session, outbox, org_id, account_id, OrgRole.manager)
    return await get(session, account_id, org_id)


async def get(session: AsyncSession, account_id: uuid.UUID, org_id: uuid.UUID) -> Organisation:
    role = await role_in(session, org_id, account_id)
    org = await repository.get_organisation(session, org_id)
    members = [dict(m._mapping) for m in await repository.org_members_of(session, org_id)]
    return Organisation(**dict(org._mapping), my_role=role, members=members)


async def mine(session: AsyncSession, account_id: uuid.UUID) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await repository.account_organisations(session, account_id)]


async def set_member(session: AsyncSession, outbox: Outbox, account_id: uuid.UUID, org_id: uuid.UUID,
                     member_id: uuid.UUID, role: OrgRole) -> Organisation:
    await role_in(session, org_id, account_id, need=OrgRole.manager)
    await repository.lock_org(session, org_id)
    current = await repository.member_role(session, org_id, member_id)
    if current == OrgRole.manager and role is not OrgRole.manager \
            and await repository.count_managers(session, org_id) == 1:
        raise Conflict("an organisation keeps at least one manager", code="org_last_manager")
    await repository.upsert_member(session, org_id, member_id, role.value)
    await _announce(session, outbox, org_id, member_id, role)
    return await get(session, account_id, org_id)


async def remove_member(session: AsyncSession, outbox: Outbox, account_id: uuid.UUID, org_id: uuid.UUID,
                        member_id: uuid.UUID) -> Organisation | None:
    """A manager removes a member; any member may leave."""
    await role_in(session, org_id, account_id, need=OrgRole.viewer if member_id == account_id else OrgRole.manager)
    await repository.lock_org(session, org_id)
    if await repository.member_role(session, org_id, member_id) == OrgRole.manager \
            and await repository.count_managers(session, org_id) == 1:
        raise Conflict("an organisation keeps at least one manager", code="org_last_manager")
    if not await repository.delete_member(session, org_id, member_id):
        raise NotFound("no such member", code="org_member_not_found")
    await _announce(session, outbox, org_id, member_id, None)
    return await get(session, account_id, org_id) if member_id != account_id else None


async def add_building(session: AsyncSession, account_id: uuid.UUID, org_id: uuid.UUID,
                       body: BuildingCreate) -> Building:
    await role_in(session, org_id, account_id, need=OrgRole.manager)
    building_id = uuid.uuid4()
    await repository.insert_building(session, {"id": building_id, "org_id": org_id, **body.model_dump(mode="json")})
    return (await buildings(session, account_id, org_id, only=building_id))[0]


async def buildings(session: AsyncSession, account_id: uuid.UUID | None, org_id: uuid.UUID, *,
                    only: uuid.UUID | None = None) -> list[Building]:
    """For a member; ``account_id`` None: for the platform (notify's digest), which reads every organisation."""
    if account_id is not None:
        await role_in(session, org_id, account_id)
    rows = await repository.org_buildings(session, org_id)
    if only is not None:
        rows = [r for r in rows if r.id == only]
    attached = await repository.building_meter_rows(session, [r.id for r in rows])
    latest = await repository.latest_consents(session, [m.id for m in attached])
    meters_of: dict[uuid.UUID, list] = defaultdict(list)
    for m in attached:
        meters_of[m.building_id].append(service.meter_view(m, latest.get(m.id)))
    return [Building(**dict(r._mapping), meters=meters_of[r.id]) for r in rows]


async def building(session: AsyncSession, account_id: uuid.UUID, org_id: uuid.UUID,
                   building_id: uuid.UUID, *, need: OrgRole = OrgRole.viewer) -> sa.Row:
    await role_in(session, org_id, account_id, need=need)
    row = await repository.get_building(session, org_id, building_id)
    if row is None:
        raise NotFound("no such building", code="building_not_found")
    return row
