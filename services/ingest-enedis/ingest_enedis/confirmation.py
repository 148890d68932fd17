"""Whether Enedis itself confirms the usage point of a consent. A redirect proves nothing: a resident can type
`usage_point_id=<any PRM>` after their own `state`, and Enedis may still hold a former occupant's consent.

Data Connect 2026: the PRMs are those the autorisation's Services souscrits name; just after the consent the
list can still be empty, an answer to wait for, not a refusal. v5: the redirect names the PRMs, and a
contract call for the meter's PRM must succeed (the most v5 offers: Enedis checks a consent for the
application and PRM).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from ingest_enedis.dataconnect import DataConnectClient
from ingest_enedis.dataconnect_payloads import ConsentRedirect
from ingest_enedis.service import Collector
from metro.collection import CallFailed, CallStats
from metro.dso import Outcome

Verdict = Literal["confirmed", "pending", "not_confirmed"]


@dataclass
class Confirmation:
    verdict: Verdict
    usage_point_ids: list[str]
    generation: str
    # Why pending or not confirmed: listing_empty, dso_unavailable, no_autorisation, autorisation_unknown,
    # not_the_redirected_meter, no_consent_at_dso.
    detail: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


async def _call(rt, make_call) -> tuple[Any, Outcome]:
    """Requests under collection's quota (``make_call`` is given how to run each); the outcome, never an
    exception."""
    collector = Collector(rt, rt.extras["client"], rt.extras["bucket"], "api")
    try:
        return await make_call(lambda call: collector.call(CallStats(), call)), Outcome.ok
    except CallFailed as failed:
        return None, failed.error.outcome


def _unavailable(outcome: Outcome) -> bool:
    return outcome in (Outcome.transient, Outcome.quota_exceeded)


async def confirm(rt, redirect: ConsentRedirect, prm: str) -> Confirmation:
    client: DataConnectClient = rt.extras["client"]
    at = dt.datetime.now(dt.UTC).isoformat()
    if redirect.autorisation_id is None and client.api_generation == "2026":
        return Confirmation("not_confirmed", [], "v2", "no_autorisation",
                            {"dso_check": {"call": None, "at": at}})
    if redirect.autorisation_id is not None:
        prms, outcome = await _call(
            rt, lambda through: through(lambda: client.exchange_autorisation(redirect.autorisation_id)))
        evidence = {"dso_check": {"call": "subscribed_services", "outcome": outcome.value, "at": at}}
        if _unavailable(outcome):
            return Confirmation("pending", [], "v2", "dso_unavailable", evidence)
        if outcome is not Outcome.ok:
            return Confirmation("not_confirmed", [], "v2", "autorisation_unknown", evidence)
        if not prms:
            return Confirmation("pending", [], "v2", "listing_empty", evidence)
        return Confirmation("confirmed", prms, "v2", None, evidence | {"usage_point_ids": prms})
    prms = list(redirect.prms)
    if prm not in prms:
        return Confirmation("not_confirmed", prms, "v1", "not_the_redirected_meter",
                            {"dso_check": {"call": None, "at": at}})
    _, outcome = await _call(rt, lambda through: client.contract(prm, through))
    evidence = {"dso_check": {"call": "contract", "outcome": outcome.value, "at": at}}
    if _unavailable(outcome):
        return Confirmation("pending", prms, "v1", "dso_unavailable", evidence)
    if outcome is not Outcome.ok:
        return Confirmation("not_confirmed", prms, "v1", "no_consent_at_dso", evidence)
    return Confirmation("confirmed", prms, "v1", None, evidence)
