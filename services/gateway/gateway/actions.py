"""Actions on the three pathways (reduce the bill, comfort and performance of the home, eco-citizen): a catalogue
advisers keep, suggested to each resident from their own data with the saving estimated from their measured
consumption; a resident commits to one and, four to eight weeks later, sees the measured change against the
weather-normalised baseline (consumption's /internal/me/effect). No points, no leaderboard.

Saving estimate: kWh a year = the energy's year of use × the share of that use (USE_SHARES) × the action's
`saving_share`; euros = kWh × the price of one more kWh of that energy (consumption's /internal/me/uses).
Shares of a home's use (SDES, Chiffres clés du logement 2022, from Ceren 2018: heating 66 % of residential
energy; the comparison's heating share of 0.7 is used for the energy that heats the home): an energy that heats
and heats water: heating 0.70, hot water 0.12, appliances and cooking the rest; an energy that only heats water
(and cooks): hot water 0.35; electricity that heats nothing: appliances all of it.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from gateway import repository
from gateway.auth import Identity, User, require_role
from gateway.schemas import ActionBody, ActionEstimate, ActionView, Commitment, CommitmentView
from metro.db import DbSession
from metro.errors import AppError, Conflict, Forbidden, NotFound, error_responses
from metro.schemas.consumption import AccountUses, MeasuredEffect

router = APIRouter(prefix="/api/v1", tags=["actions"])
Editor = Annotated[Identity, Depends(require_role("adviser", "admin"))]
SEED = Path(__file__).parent / "data" / "actions.json"
SEED_NAMESPACE = uuid.UUID("6f1d7a52-1c55-4b4e-9d0b-5d3f0e6a2c11")
# The dwelling's heating (or hot-water) energy → the meter energy that measures it.
METER_ENERGY = {"electricity": "electricity", "heat_pump": "electricity", "gas": "gas", "heat_network": "heat",
                "wood": "wood", "fuel_oil": "fuel_oil"}
HEATING_SHARE, HOT_WATER_WITH_HEATING, HOT_WATER_ALONE = 0.70, 0.12, 0.35
HEATING_MONTHS = (10, 11, 12, 1, 2, 3, 4)
MEASURE_AFTER = dt.timedelta(days=28)


async def seed_catalogue(rt: Any) -> None:
    data = json.loads(SEED.read_text("utf-8"))["actions"]
    rows = [{"id": uuid.uuid5(SEED_NAMESPACE, a["slug"]),
             **ActionBody.model_validate({k: v for k, v in a.items() if k != "slug"}).model_dump()} for a in data]
    async with rt.db.session() as session, session.begin():
        await repository.seed_actions(session, rows)


def _services(request: Request):
    return request.app.state.runtime.services


def target_energy(action: Any, uses: AccountUses) -> str | None:
    if action.energy == "heating":
        return METER_ENERGY.get(uses.heating_energy or "")
    if action.energy == "hot_water":
        return METER_ENERGY.get(uses.hot_water_energy or "")
    return None if action.energy == "any" else action.energy


def use_share(use: str, energy: str, uses: AccountUses) -> float:
    heats = METER_ENERGY.get(uses.heating_energy or "") == energy
    hot = METER_ENERGY.get(uses.hot_water_energy or "") == energy
    hot_share = (HOT_WATER_WITH_HEATING if heats else HOT_WATER_ALONE) if hot else 0.0
    if use == "all":
        return 1.0
    if use == "heating":
        return HEATING_SHARE if heats else 0.0
    if use == "hot_water":
        return hot_share
    return max(0.0, 1.0 - (HEATING_SHARE if heats else 0.0) - hot_share) if energy == "electricity" else 0.0


def estimate(action: Any, uses: AccountUses) -> ActionEstimate:
    energy = target_energy(action, uses)
    if energy is None:
        return ActionEstimate(energy=None, basis="no_energy" if action.energy == "any" else "energy_not_declared")
    figures = next((e for e in uses.energies if e.energy == energy), None)
    if figures is None or figures.kwh_year is None:
        return ActionEstimate(energy=energy, basis="no_consumption")
    share = use_share(action.use, energy, uses)
    kwh = Decimal(str(figures.kwh_year)) * Decimal(str(share)) * Decimal(action.saving_share)
    eur = None if figures.eur_per_kwh is None else \
        str((kwh * Decimal(str(figures.eur_per_kwh))).quantize(Decimal("0.01"), ROUND_HALF_UP))
    basis = (f"{figures.kwh_year:.0f} kWh a year of {energy} × {share:.2f} ({action.use}) × "
             f"{float(action.saving_share):.3f}" + (f" × {figures.eur_per_kwh} €/kWh" if eur else ""))
    return ActionEstimate(energy=energy, kwh_year=float(kwh.quantize(Decimal("0.1"), ROUND_HALF_UP)), eur_year=eur,
                          basis=basis)


def suggestion(action: Any, uses: AccountUses, today: dt.date) -> tuple[bool, list[str]]:
    """Whether the resident's own data makes the action relevant now, and why."""
    reasons: list[str] = []
    energy = target_energy(action, uses)
    if action.energy != "any":
        # The dwelling's heating or hot-water energy is the resident's own data, meter or not; another energy
        # needs its meter.
        metered = any(e.energy == energy for e in uses.energies)
        if energy is None or (action.energy not in ("heating", "hot_water") and not metered):
            return False, []
        reasons.append({"heating": "heating_energy", "hot_water": "hot_water_energy"}.get(action.energy,
                                                                                           "uses_energy"))
    if action.season != "all":
        if (today.month in HEATING_MONTHS) != (action.season == "heating"):
            return False, []
        reasons.append("season")
    for column, value, reason in (("dwelling_types", uses.dwelling_type, "dwelling_type"),
                                  ("heating_energies", uses.heating_energy, "heating_energy"),
                                  ("heating_modes", uses.heating_mode, "heating_mode")):
        wanted = getattr(action, column)
        if wanted:
            if value not in wanted:
                return False, []
            if reason not in reasons:
                reasons.append(reason)
    if action.after_anomaly:
        figures = next((e for e in uses.energies if e.energy == energy), None)
        if figures is None or figures.anomalies_90_days == 0:
            return False, []
        reasons.append("anomaly")
    return True, reasons


def view(action: Any, uses: AccountUses | None = None, today: dt.date | None = None) -> ActionView:
    fields = {k: getattr(action, k) for k in ActionBody.model_fields}
    fields["saving_share"] = float(action.saving_share)
    out = ActionView(id=action.id, **fields)
    if uses is not None:
        out.suggested, out.reasons = suggestion(action, uses, today or dt.date.today())
        out.estimate = estimate(action, uses)
    return out


async def _uses(request: Request, who: Identity) -> AccountUses:
    return AccountUses.model_validate(await _services(request).json("consumption", "GET", "/internal/me/uses",
                                                                    principal=who.principal))


@router.get("/actions", response_model=list[ActionView])
async def catalogue(who: User, request: Request, session: DbSession):
    """The actions of the three pathways, those the resident's own data makes relevant first (`suggested`, with
    `reasons`), each with its saving estimated in kWh and € a year from the resident's measured consumption."""
    uses = await _uses(request, who)
    today = dt.date.today()
    views = [view(a, uses, today) for a in await repository.list_actions(session)]
    return sorted(views, key=lambda v: (not v.suggested, -(v.estimate.kwh_year or 0) if v.estimate else 0))


async def _commitment_view(request: Request, who: Identity, row: Any, action: Any, uses: AccountUses) -> CommitmentView:
    effect = None
    if row.energy is not None:
        effect = MeasuredEffect.model_validate(await _services(request).json(
            "consumption", "GET", "/internal/me/effect", principal=who.principal,
            params={"energy": row.energy, "since": row.committed_on.isoformat()}))
    return CommitmentView(id=row.id, action=view(action, uses), committed_on=row.committed_on,
                          measurable_from=row.committed_on + MEASURE_AFTER,
                          estimated_kwh=float(row.estimated_kwh) if row.estimated_kwh is not None else None,
                          estimated_eur=str(row.estimated_eur) if row.estimated_eur is not None else None,
                          effect=effect)


@router.post("/me/actions", response_model=CommitmentView, status_code=201,
             responses=error_responses(NotFound, Conflict))
async def commit(body: Commitment, who: User, request: Request, session: DbSession):
    """The resident commits to an action: its estimate is kept, and its effect is measured from today (a figure
    from four weeks on). 404 `action_not_found`; 409 `action_already_committed`."""
    action = await repository.get_action(session, body.action_id)
    if action is None or not action.active:
        raise NotFound("no such action", code="action_not_found")
    uses = await _uses(request, who)
    guess = estimate(action, uses)
    row = {"id": uuid.uuid4(), "account_id": who.account_id, "action_id": action.id, "energy": guess.energy,
           "committed_on": dt.date.today(), "estimated_kwh": guess.kwh_year, "estimated_eur": guess.eur_year}
    if not await repository.insert_commitment(session, row):
        raise Conflict("you have already committed to this action", code="action_already_committed")
    return await _commitment_view(request, who, SimpleNamespace(**row), action, uses)


@router.get("/me/actions", response_model=list[CommitmentView])
async def my_actions(who: User, request: Request, session: DbSession):
    """The actions the resident committed to, newest first, each with its measured effect: `effect.available`
    once four weeks are measured (`reason` `too_early` before), the change in % against the same weeks a year
    earlier (or the weeks just before), weather-normalised for a heating use when degree days are known."""
    rows = await repository.account_commitments(session, who.account_id)
    if not rows:
        return []
    uses = await _uses(request, who)
    by_id = {a.id: a for a in await repository.list_actions(session, active_only=False)}
    return [await _commitment_view(request, who, r, by_id[r.action_id], uses) for r in rows]


@router.get("/admin/actions", response_model=list[ActionView], tags=["admin"])
async def all_actions(_: Editor, session: DbSession):
    """The whole catalogue, withdrawn actions included (advisers and administrators)."""
    return [view(a) for a in await repository.list_actions(session, active_only=False)]


@router.post("/admin/actions", response_model=ActionView, status_code=201, tags=["admin"],
             responses=error_responses(Forbidden, AppError))
async def create_action(body: ActionBody, _: Editor, session: DbSession):
    """An adviser or an administrator adds an action (403 `forbidden_role` for anyone else)."""
    action_id = uuid.uuid4()
    await repository.insert_action(session, {"id": action_id, **body.model_dump()})
    return view(await repository.get_action(session, action_id))


@router.put("/admin/actions/{action_id}", response_model=ActionView, tags=["admin"],
            responses=error_responses(Forbidden, NotFound, AppError))
async def update_action(action_id: uuid.UUID, body: ActionBody, _: Editor, session: DbSession):
    """Replaces an action; `active: false` withdraws it from residents (commitments keep it)."""
    if not await repository.update_action(session, action_id, body.model_dump()):
        raise NotFound("no such action", code="action_not_found")
    return view(await repository.get_action(session, action_id))
