"""The personal-data registry: each service declares which of its tables hold personal data, why, and
for how long. The export and the erasure both walk it, so neither can forget a table.

A service lists its tables in ``<package>/privacy.py`` as ``PERSONAL_DATA: list[PersonalTable]`` and names them,
with its privacy hooks, in its ``ServiceSpec``.
A row belongs to an account when ``account_column`` equals the account id, or when ``meter_column`` is
one of the account's meters.
Each service's outbox is not listed: its payloads name accounts and meters only until the erasure deletes them,
or until ``metro.retention`` prunes them once published (``outbox_retention``); the inbox holds event ids only.
"""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

# A service's privacy hook, called with (session, account_id, meter_ids): ``before_erase`` and ``after_erase``,
# what it does in the erasure's transaction before its registered rows go, or after; ``withheld_meters``, the
# meters whose measurements the export leaves out, with the reason.
PrivacyHook = Callable[[AsyncSession, uuid.UUID, list[uuid.UUID]], Awaitable[Any]]


def pseudonym(account_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    """An erased account's stable stand-in where others' records keep it: an id and a short tag (``#1a2b3c4d``),
    the same in every row and service, that cannot be turned back into the account."""
    digest = hashlib.sha256(f"metro-pseudonym:{account_id}".encode()).hexdigest()
    return uuid.UUID(digest[:32]), f"#{digest[32:40]}"


@dataclass(frozen=True)
class Pseudonymised:
    """Rows that belong to someone else and also name the account in ``column`` (a resident's access log names the
    adviser who read it): when that account is erased the rows stay, ``column`` set to the pseudonym id and the
    columns ``values(table, tag)`` returns (SQL expressions allowed) replaced, e.g. the name by a label and tag."""
    column: str
    values: Callable[[sa.Table, str], dict[str, Any]]


@dataclass(frozen=True)
class PersonalTable:
    table: sa.Table
    purpose: str
    retention: str
    # One column, or several (a share names the resident and the adviser: both may ask for it).
    account_column: str | tuple[str, ...] | None = None
    meter_column: str | None = None
    # Columns never exported (secrets, hashes); they are still erased with the row.
    hidden: tuple[str, ...] = ()
    # Measured at the meter (readings and what is computed from them): left out of the export while the service
    # withholds the meter, e.g. consumption while the DSO's address of it differs from the dwelling, since the
    # measurements may be a neighbour's. Still erased with the account.
    measured: bool = False
    pseudonymised: Pseudonymised | None = None

    @property
    def name(self) -> str:
        return f"{self.table.schema}.{self.table.name}"

    def owned_by(self, account_id: uuid.UUID, meter_ids: list[uuid.UUID]) -> sa.ColumnElement[bool]:
        clauses = []
        columns = (self.account_column,) if isinstance(self.account_column, str) else self.account_column or ()
        clauses.extend(self.table.c[c] == account_id for c in columns)
        if self.meter_column and meter_ids:
            clauses.append(self.table.c[self.meter_column].in_(meter_ids))
        return sa.or_(*clauses) if clauses else sa.false()

    def exported_columns(self) -> list[sa.Column]:
        return [c for c in self.table.c if c.name not in self.hidden]


def jsonable(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    return value


WITHHELD_PURPOSE = ("meters whose measurements this export leaves out, and why: they are shown to nobody and "
                    "exported to nobody until the reason is resolved (address_unconfirmed: the DSO's address of the "
                    "meter differs from the dwelling, so they may be someone else's)")


async def export_rows(session: AsyncSession, registry: list[PersonalTable], account_id: uuid.UUID,
                      meter_ids: list[uuid.UUID], *, withheld: dict[uuid.UUID, str] | None = None,
                      chunk: int = 2000) -> AsyncIterator[tuple[PersonalTable, dict]]:
    """Every registered row of the account, table by table, streamed in chunks (small in memory). ``withheld``:
    meters whose measured tables are left out, with the reason (rows of ``PersonalTable.measured`` tables)."""
    withheld = withheld or {}
    for entry in registry:
        cols = entry.exported_columns()
        owned = entry.owned_by(account_id, meter_ids)
        if entry.measured and entry.meter_column and withheld:
            owned = sa.and_(owned, entry.table.c[entry.meter_column].not_in(list(withheld)))
        result = await session.stream(sa.select(*cols).where(owned).execution_options(yield_per=chunk))
        async for row in result:
            yield entry, {c.name: jsonable(v) for c, v in zip(cols, row)}


def withheld_rows(registry: list[PersonalTable], withheld: dict[uuid.UUID, str]) -> list[dict]:
    """Export lines of the ``<schema>.withheld`` dataset: each withheld meter, the reason and the datasets left
    out."""
    if not withheld:
        return []
    name, left_out = f"{registry[0].table.schema}.withheld", [e.name for e in registry if e.measured]
    return [{"table": name, "purpose": WITHHELD_PURPOSE,
             "row": {"meter_id": str(meter), "reason": reason, "datasets": left_out}}
            for meter, reason in withheld.items()]


async def erase(session: AsyncSession, registry: list[PersonalTable], account_id: uuid.UUID,
                meter_ids: list[uuid.UUID]) -> dict[str, int]:
    """Deletes every registered row of the account, except those only naming it in a ``pseudonymised`` column,
    which get its pseudonym; returns the count per table. Children first: the registry lists tables in an order
    where deleting top to bottom respects foreign keys, or the foreign keys cascade."""
    counts: dict[str, int] = {}
    for entry in registry:
        if (rule := entry.pseudonymised) is not None:
            pseudonym_id, tag = pseudonym(account_id)
            await session.execute(sa.update(entry.table).where(entry.table.c[rule.column] == account_id)
                                  .values({rule.column: pseudonym_id, **rule.values(entry.table, tag)}))
        result = await session.execute(sa.delete(entry.table).where(entry.owned_by(account_id, meter_ids)))
        counts[entry.name] = result.rowcount or 0
    return counts


def describe(registry: list[PersonalTable]) -> list[dict]:
    return [{"table": e.name, "purpose": e.purpose, "retention": e.retention,
             "columns": [c.name for c in e.exported_columns()]} for e in registry]
