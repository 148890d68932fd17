"""Tables of the consent service (schema ``consent``)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from metro.bus import inbox_table
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "consent"
metadata = make_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

dwellings = sa.Table(
    "dwellings", metadata,
    sa.Column("account_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("street", sa.Text, nullable=False),
    sa.Column("postal_code", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("insee_code", sa.Text, nullable=False),
    sa.Column("iris_code", sa.Text),
    sa.Column("surface_m2", sa.Float),
    sa.Column("occupants", sa.Integer),
    sa.Column("dwelling_type", sa.Text),
    sa.Column("heating_energy", sa.Text),
    sa.Column("heating_mode", sa.Text),
    sa.Column("hot_water_energy", sa.Text),
    sa.Column("construction_year", sa.Integer),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

meters = sa.Table(
    "meters", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("energy", sa.Text, nullable=False),
    sa.Column("dso", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("identifier", sa.Text, nullable=False),
    sa.Column("label", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # Set when the account that claimed it is erased or gives it up: the meter may be claimed again.
    sa.Column("released_at", sa.DateTime(timezone=True)),
    sa.Index("uq_meters_active_claim", "dso", "identifier", unique=True,
             postgresql_where=sa.text("released_at IS NULL")),
)

consents = sa.Table(
    "consents", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("meter_id", UUID(as_uuid=True), sa.ForeignKey("meters.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("account_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False, server_default="daily_consumption"),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("history_from", sa.Date),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # DSO-side reference: ADICT access-right id, SGE subscription reference, Data Connect autorisation, the
    # contract reference on a local operator's bill.
    sa.Column("dso_reference", sa.Text),
    # A local operator's meter: the holder's name as declared, checked against the operator's first file.
    sa.Column("holder_name", sa.Text),
    # Hash of the single-use OAuth `state` bound to the account; the state itself is never stored.
    sa.Column("state_hash", sa.Text, unique=True),
    sa.Column("state_expires_at", sa.DateTime(timezone=True)),
    # The seed's accuracy control: the DSO's address of the meter against the declared dwelling.
    # match, mismatch (data withheld until resolved), unknown, resident_confirmed (the resident says the meter
    # is theirs; still withheld until an administrator reviews it), confirmed (by the resident, before that
    # review existed), cleared (by an administrator), rejected (by an administrator: the consent is revoked,
    # the data stays withheld).
    sa.Column("address_check", sa.Text),
    # Which parts differ (municipality, postal_code, street); the DSO's address itself is never stored.
    sa.Column("address_mismatch", ARRAY(sa.Text)),
    # Reminders already sent (days before expiry), so each is sent once.
    sa.Column("reminders_sent", ARRAY(sa.Integer), nullable=False, server_default="{}"),
    # When to ask Enedis again about a consent it has not confirmed yet (Services souscrits still empty, or
    # the DSO unavailable), and how many times it was asked: the delay doubles until the 7-day time-out.
    sa.Column("dso_check_at", sa.DateTime(timezone=True)),
    sa.Column("dso_check_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_consent_consents_address_pending", "updated_at",
             postgresql_where=sa.text("address_check IN ('mismatch', 'resident_confirmed')")),
    sa.Index("ix_consent_consents_dso_check_due", "dso_check_at",
             postgresql_where=sa.text("dso_check_at IS NOT NULL")),
)

# Append-only history of every transition: the resident's proof of what they agreed to.
consent_events = sa.Table(
    "consent_events", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("consent_id", UUID(as_uuid=True), sa.ForeignKey("consents.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("account_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("evidence", JSONB, nullable=False, server_default="{}"),
)

# Read access a resident gives an energy adviser: what (scopes), until when (ends_on, inclusive, Europe/Paris),
# and under which name and contact the adviser sees them; until taken back or past its end.
shares = sa.Table(
    "shares", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("resident_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("adviser_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("adviser_name", sa.Text, nullable=False),
    sa.Column("resident_name", sa.Text, nullable=False),
    sa.Column("resident_contact", sa.Text),
    sa.Column("scopes", ARRAY(sa.Text), nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("renewed_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

# Advice an adviser wrote to a resident who shared with them: the resident reads it and may delete it. An erased
# adviser's notes stay the resident's under a pseudonym.
advice_notes = sa.Table(
    "advice_notes", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("resident_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("adviser_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("adviser_name", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Every read of a resident's data by someone else (adviser, administrator): shown to the resident.
access_log = sa.Table(
    "access_log", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("resident_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("reader_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("reader_role", sa.Text, nullable=False),
    sa.Column("reader_name", sa.Text, nullable=False),
    sa.Column("what", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Organisations (municipalities, landlords, companies): they hold meters as a resident does (meters.account_id
# and consents.account_id are the organisation's id), grouped into buildings; their members act for them.
organisations = sa.Table(
    "organisations", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("siren", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

org_members = sa.Table(
    "org_members", metadata,
    sa.Column("org_id", UUID(as_uuid=True), sa.ForeignKey("organisations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), primary_key=True, index=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

buildings = sa.Table(
    "buildings", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", UUID(as_uuid=True), sa.ForeignKey("organisations.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("site", sa.Text),
    sa.Column("street", sa.Text, nullable=False),
    sa.Column("postal_code", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("insee_code", sa.Text, nullable=False),
    sa.Column("use_type", sa.Text, nullable=False),
    sa.Column("heated_area_m2", sa.Float, nullable=False),
    sa.Column("construction_year", sa.Integer),
    sa.Column("heating_energy", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

building_meters = sa.Table(
    "building_meters", metadata,
    sa.Column("building_id", UUID(as_uuid=True), sa.ForeignKey("buildings.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("meter_id", UUID(as_uuid=True), sa.ForeignKey("meters.id", ondelete="CASCADE"), primary_key=True,
              unique=True),
)

# Landlord statements: the dwellings of a housing building, their tantièmes of the collective heating and hot
# water, and the tenant who accepted the dwelling's invitation (only a hash of the code is kept).
building_dwellings = sa.Table(
    "building_dwellings", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("building_id", UUID(as_uuid=True), sa.ForeignKey("buildings.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("floor_area_m2", sa.Float, nullable=False),
    sa.Column("heating_tantiemes", sa.Integer),
    sa.Column("hot_water_tantiemes", sa.Integer),
    sa.Column("tenant_account_id", UUID(as_uuid=True), index=True),
    sa.Column("invite_hash", sa.Text, unique=True),
    sa.Column("invite_expires_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# What a building meter measures for the statements (collective heating or hot water, or one dwelling's own).
building_meter_roles = sa.Table(
    "building_meter_roles", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), sa.ForeignKey("meters.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("dwelling_id", UUID(as_uuid=True), sa.ForeignKey("building_dwellings.id", ondelete="CASCADE"),
              index=True),
)


# The Base Adresse Nationale's addresses in the Métropole's municipalities, keyed by the BAN's own id: the dwelling
# form's autocomplete. Public reference data, not personal data.
addresses = sa.Table(
    "addresses", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("street", sa.Text, nullable=False),
    sa.Column("postal_code", sa.Text, nullable=False),
    sa.Column("insee_code", sa.Text, nullable=False, index=True),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("lon", sa.Float),
    sa.Column("lat", sa.Float),
    # Lower case without accents or punctuation ("5 bis place grenette 38000 grenoble"), searched by trigrams.
    sa.Column("search", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("ix_consent_addresses_search", "search", postgresql_using="gin",
             postgresql_ops={"search": "gin_trgm_ops"}),
)
