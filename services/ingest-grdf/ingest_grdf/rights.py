"""ADICT access rights ("droits d'accès"): the declaration asked by the consent service, GRDF's state of
each right followed by polling, and the tiers' own revocation when a resident withdraws."""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_grdf import repository
from ingest_grdf.adict import fold
from ingest_grdf.service import Collector, revoked_event
from metro.app import Runtime
from metro.collection import CallFailed, CallStats
from metro.dso import Outcome
from metro.errors import AppError, UpstreamError

log = logging.getLogger(__name__)

# Our reading of GRDF's état -> the consent status it means (A revérifier keeps the right usable).
CONSENT_STATUS = {"awaiting_holder": "awaiting_holder", "active": "active", "to_recheck": "active",
                  "refused": "refused", "revoked": "revoked", "obsolete": "revoked"}
WATCHED = ["awaiting_holder", "active", "to_recheck"]

# ADICT declaration codes (code_statut_traitement) -> stable codes the consent service records as reasons.
DECLARATION_ERRORS: dict[str, tuple[str, int]] = {
    "1000000003": ("grdf_access_right_exists", 409),
    "1000000004": ("grdf_supply_ended", 409),
    "1000000005": ("grdf_postal_code_mismatch", 409),
    "1000000006": ("grdf_unknown_pce", 422),
    "1000000021": ("grdf_access_right_pending", 409),
    "1000000024": ("grdf_email_invalid", 422),
    "1000000025": ("grdf_phone_invalid", 422),
    "1000000026": ("grdf_holder_missing", 422),
    "1000000027": ("grdf_postal_code_missing", 422),
    "1000000028": ("grdf_email_missing", 422),
    "1000000036": ("grdf_postal_code_invalid", 422),
    "1000000037": ("grdf_bad_pce", 422),
    "1000000039": ("grdf_holder_ambiguous", 422),
    "bad_pce": ("grdf_bad_pce", 422),
}


def declaration_error(code: str | None, message: str) -> AppError:
    if code == "1000000022":
        # One code for every incoherent declaration; the holder check is the one a resident can get wrong.
        stable = "grdf_holder_mismatch" if "INCOHERENTE" in fold(message) else "grdf_declaration_incoherent"
        return AppError(message, code=stable, status_code=409)
    stable, status = DECLARATION_ERRORS.get(code or "", ("grdf_declaration_refused", 422))
    return AppError(message, code=stable, status_code=status)


def consent_status(status: str) -> str:
    return CONSENT_STATUS.get(status, "invalid")


def view(row) -> dict[str, Any]:
    return {"access_right_id": row.access_right_id, "status": consent_status(row.status),
            "dso_status": row.dso_status}


async def declare(rt: Runtime, session: AsyncSession, body) -> dict[str, Any]:
    """PUT the access right at GRDF once per consent; asking again returns what was declared."""
    known = await repository.access_right_of_consent(session, body.consent_id)
    if known is not None:
        return view(known)
    client = rt.extras["client"]
    collector = Collector(rt, client, rt.extras["bucket"], "api")
    stats = CallStats()
    try:
        right = await collector.call(stats, lambda: client.declare_access(
            body.pce, body.holder_name, body.postal_code, body.email, body.start, body.end,
            holder_is_company=body.holder_is_company))
    except CallFailed as failed:
        error = failed.error
        if error.outcome in (Outcome.transient, Outcome.quota_exceeded):
            raise UpstreamError("GRDF ADICT is unavailable; the declaration will be retried",
                                code="dso_unavailable") from None
        raise declaration_error(error.code, str(error)) from None
    await repository.insert_access_right(session, {
        "consent_id": body.consent_id, "meter_id": body.meter_id, "pce": body.pce,
        "access_right_id": right["access_right_id"], "dso_status": right["state"], "status": right["status"],
        "reported_status": right["status"], "holder_name": body.holder_name, "postal_code": body.postal_code,
        "email": body.email, "start": body.start, "end": body.end, "history_from": right.get("history_from"),
        "checked_at": sa.func.now()})
    return view(await repository.access_right_of_consent(session, body.consent_id))


async def request_revocation(session: AsyncSession, consent_id: uuid.UUID | None, meter_id: uuid.UUID) -> None:
    await repository.request_revocation(session, consent_id, meter_id)


class AccessRightsWatch:
    """One pass of the access-rights worker; the caller makes sure one replica runs it at a time."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.settings = rt.settings
        self.client = rt.extras["client"]
        self.collector = Collector(rt, self.client, rt.extras["bucket"], "rights")
        self.last_full_check = 0.0
        self.last_poll = 0.0

    async def run_once(self, monotonic_now: float, *, force: bool = False) -> None:
        await self.send_revocations()
        await self.report_pending()
        async with self.rt.db.session() as session:
            awaiting = await repository.watched_access_rights(session, ["awaiting_holder"])
            watched = await repository.watched_access_rights(session, WATCHED)
        full_due = monotonic_now - self.last_full_check >= self.settings.access_rights_full_check_s
        poll_due = monotonic_now - self.last_poll >= self.settings.access_rights_poll_s
        if force or (full_due and watched):
            rows = watched
            self.last_full_check = self.last_poll = monotonic_now
        elif poll_due and awaiting:
            rows = awaiting
            self.last_poll = monotonic_now
        else:
            return
        for i in range(0, len(rows), 1000):
            chunk = rows[i:i + 1000]
            try:
                listed = await self.collector.call(CallStats(), lambda c=chunk: self.client.list_access_rights(
                    sorted({r.pce for r in c})))
            except CallFailed as failed:
                log.warning("access-right listing failed", extra={"error": str(failed)})
                return
            by_id = {r["access_right_id"]: r for r in listed}
            for row in chunk:
                seen = by_id.get(row.access_right_id)
                if seen is not None:
                    await self.apply(row, seen)

    async def apply(self, row, seen: dict[str, Any]) -> None:
        """Records GRDF's new state; a right gone after it was active stops collection at once."""
        status, dso_status = seen["status"], seen["state"]
        if status == "unknown" or (status == row.status and dso_status == row.dso_status):
            async with self.rt.db.session() as session, session.begin():
                await repository.update_access_right(session, row.access_right_id, checked_at=sa.func.now())
            return
        async with self.rt.db.session() as session, session.begin():
            values: dict[str, Any] = {"status": status, "dso_status": dso_status, "checked_at": sa.func.now()}
            if status in ("revoked", "obsolete") and row.reported_status in ("active", "to_recheck"):
                cursor = await repository.cursor_of(session, row.meter_id)
                await repository.deactivate(session, row.meter_id, row.consent_id, Outcome.consent_revoked.value)
                revoked = revoked_event(cursor or row, "dso", dso_status=dso_status)
                await self.rt.outbox.add(session, revoked.model_copy(update={"consent_id": row.consent_id}))
                values["reported_status"] = status
            await repository.update_access_right(session, row.access_right_id, **values)
        if values.get("reported_status") is None:
            await self.report(SimpleNamespace(**{**row._asdict(), "status": status, "dso_status": dso_status}), seen)

    async def report_pending(self) -> None:
        """Reports that failed earlier (consent service down) are sent again."""
        async with self.rt.db.session() as session:
            rows = await repository.unreported_access_rights(session)
        for row in rows:
            await self.report(row, None)

    async def report(self, row, seen: dict[str, Any] | None) -> None:
        target = consent_status(row.status)
        if consent_status(row.reported_status) == target:
            async with self.rt.db.session() as session, session.begin():
                await repository.update_access_right(session, row.access_right_id, reported_status=row.status)
            return
        if target == "revoked":
            # Gone before the holder validated it: for the consent that is a refusal.
            target = "refused"
        body: dict[str, Any] = {"status": target, "reason": None if target == "active" else f"grdf_{row.status}",
                                "evidence": {"access_right_id": row.access_right_id, "dso_status": row.dso_status},
                                "dso_reference": row.access_right_id}
        if target == "active":
            end = (seen or {}).get("end") or row.end
            history_from = (seen or {}).get("history_from") or row.history_from
            body["expires_at"] = dt.datetime.combine(end, dt.time(23, 59), dt.UTC).isoformat()
            if history_from:
                body["history_from"] = history_from.isoformat()
        try:
            await self.rt.services.json("consent", "POST", f"/internal/consents/{row.consent_id}/dso-status",
                                        json=body)
        except AppError as exc:
            log.warning("consent service did not take the ADICT state", extra={
                "consent_id": str(row.consent_id), "error": exc.code})
            if exc.status_code >= 500:
                return
        async with self.rt.db.session() as session, session.begin():
            await repository.update_access_right(session, row.access_right_id, reported_status=row.status)

    async def send_revocations(self) -> None:
        """The tiers gives the right up at GRDF (PATCH) so GRDF stops serving the data of a former resident."""
        backoff = dt.timedelta(seconds=self.settings.revoke_backoff_s)
        async with self.rt.db.session() as session:
            due = await repository.revocations_due(session, backoff)
        for row in due:
            # The access right's own row is gone when the account was erased meanwhile: then these are no-ops.
            values: dict[str, Any] = {}
            done = True
            try:
                await self.collector.call(CallStats(), lambda r=row: self.client.revoke_access(r.access_right_id))
                values.update(revoked_at_dso_at=sa.func.now(), status="revoked", reported_status="revoked",
                              dso_status="Révoquée", last_error=None)
            except CallFailed as failed:
                if failed.error.outcome is Outcome.bad_request and failed.error.status == 404:
                    # Unknown or no longer Active/A valider at GRDF: nothing left to give up.
                    values.update(revoked_at_dso_at=sa.func.now(), last_error=str(failed)[:500])
                else:
                    values["last_error"] = str(failed)[:500]
                    done = False
            async with self.rt.db.session() as session, session.begin():
                await repository.record_revocation_attempt(session, row.access_right_id, **values)
                if done:
                    await repository.revocation_done(session, row.access_right_id)
                else:
                    await repository.revocation_failed(session, row.access_right_id, values["last_error"])
