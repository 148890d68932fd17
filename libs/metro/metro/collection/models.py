"""The tables of a connector's collection, created in the connector's own metadata (and schema)."""
from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID


def cursors_table(metadata: sa.MetaData, name: str = "cursors", *extra: sa.Column) -> sa.Table:
    """One row per meter under consent: what to collect, where collection stands, who holds it now (``extra``:
    a connector's own columns, for a second collection of the same meters such as a load curve)."""
    return sa.Table(
        name, metadata,
        sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("consent_id", UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", UUID(as_uuid=True)),
        sa.Column("identifier", sa.Text, nullable=False),
        sa.Column("dso_reference", sa.Text),
        sa.Column("history_from", sa.Date),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("last_day", sa.Date),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_outcome", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.Column("contract", JSONB),
        sa.Column("contract_checked_at", sa.DateTime(timezone=True)),
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        *extra,
        sa.Index(None, "next_due_at", postgresql_where=sa.text("active")),
    )


def collected_ranges_table(metadata: sa.MetaData, name: str = "collected_ranges") -> sa.Table:
    """Per meter, the day ranges [first_day, end_day[ the DSO has answered for, merged: a handful of rows
    per meter, from which the next cycle computes the missing days."""
    return sa.Table(
        name, metadata,
        sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("first_day", sa.Date, primary_key=True),
        sa.Column("end_day", sa.Date, nullable=False),
    )


def gaps_table(metadata: sa.MetaData, name: str = "gaps") -> sa.Table:
    """Per meter, the day ranges [first_day, end_day[ the DSO kept failing after the retries it asked for,
    with its reason: the days around them are committed, these are asked again at each cycle until served."""
    return sa.Table(
        name, metadata,
        sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("first_day", sa.Date, primary_key=True),
        sa.Column("end_day", sa.Date, nullable=False),
        sa.Column("code", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def cycles_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "cycles", metadata,
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("dso", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False, server_default="schedule"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("outcomes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("meters", sa.Integer, nullable=False, server_default="0"),
        sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("throttled", sa.Integer, nullable=False, server_default="0"),
        # One open cycle per DSO at a time, whichever replica opens it.
        sa.Index("uq_cycles_open", "dso", unique=True, postgresql_where=sa.text("finished_at IS NULL")),
    )


def raw_payloads_table(metadata: sa.MetaData) -> sa.Table:
    """The DSO's answers as received (zlib-compressed JSON), so a parser fix can be replayed on them."""
    return sa.Table(
        "raw_payloads", metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("meter_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date),
        sa.Column("period_end", sa.Date),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )


def rate_buckets_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "rate_buckets", metadata,
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("capacity", sa.Float, nullable=False),
        sa.Column("rate", sa.Float, nullable=False),
        sa.Column("per_second", sa.Float, nullable=False),
        sa.Column("per_hour", sa.Integer),
        sa.Column("per_day", sa.Integer),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("hour_taken", sa.Integer, nullable=False, server_default="0"),
        # The calendar day (Europe/Paris) the daily count is for.
        sa.Column("day_start", sa.Date),
        sa.Column("day_taken", sa.Integer, nullable=False, server_default="0"),
        sa.Column("taken_total", sa.BigInteger, nullable=False, server_default="0"),
    )


def ended_consents_table(metadata: sa.MetaData) -> sa.Table:
    """Consents that ended here for good (revoked, expired, erased), so that a late ``consent.granted`` for
    one of them (a consumer's retry, the outbox's backoff) never starts collection again. Only a hash of the
    consent id is kept: enough to recognise it, nothing that leads back to an erased account."""
    return sa.Table(
        "ended_consents", metadata,
        sa.Column("consent_hash", sa.Text, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


class CollectionTables(NamedTuple):
    cursors: sa.Table
    collected_ranges: sa.Table
    cycles: sa.Table
    raw_payloads: sa.Table
    rate_buckets: sa.Table
    ended_consents: sa.Table


def collection_tables(metadata: sa.MetaData) -> CollectionTables:
    """The tables of a connector's collection, declared in its metadata."""
    return CollectionTables(cursors_table(metadata), collected_ranges_table(metadata), cycles_table(metadata),
                            raw_payloads_table(metadata), rate_buckets_table(metadata),
                            ended_consents_table(metadata))
