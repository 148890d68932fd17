"""Who may read what: a meter by its account (or a reader of all), an account's reads by the platform, the
account or an administrator, and nothing of a meter consent's accuracy control holds."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from metro.errors import AddressUnconfirmed, Forbidden, NotFound
from metro.service_auth import Principal

async def authorize_meter(session: AsyncSession, meter_id: uuid.UUID, principal: Principal) -> sa.Row:
    """The meter (id, account, energy), if the principal may read it; otherwise not found (no existence leak)."""
    row = await repository.meter_info(session, meter_id)
    check_access(row, principal)
    return row


def readable(meter: sa.Row, principal: Principal) -> bool:
    return principal.account_id == meter.account_id or principal.has("reader:all")


def check_access(meter: sa.Row | None, principal: Principal) -> None:
    if meter is None or not readable(meter, principal):
        raise NotFound("no such meter", code="meter_not_found")


def check_shown(meter: sa.Row) -> None:
    """Collected while consent's accuracy control holds it, but shown to nobody until it is resolved."""
    if meter.address_hold:
        raise AddressUnconfirmed("the DSO's address of this meter differs from the dwelling's: confirm the meter "
                                 "is yours or correct the dwelling before its data is shown")


def authorize_account(account_id: uuid.UUID, principal: Principal) -> None:
    """Account-wide internal reads: the platform itself (periodic reports), the account, or an administrator."""
    if principal.account_id not in (None, account_id) and not principal.has("admin"):
        raise Forbidden("this account is not yours", code="account_forbidden")


def authorize_platform(principal: Principal) -> None:
    """Reads across accounts: the platform itself or an administrator, never a resident."""
    if principal.account_id is not None and not principal.has("admin"):
        raise Forbidden("this list is for the platform", code="platform_only")
