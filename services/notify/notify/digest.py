"""The weekly excess digest of organisations: their meters' anomaly episodes are not alerts to a resident (an
organisation reads no e-mail); each Monday morning (Europe/Paris), every member who has not turned e-mailed
anomaly alerts off receives, in their language, per building, the meters whose consumption was well above their
own baseline during the week before. A week with nothing to say sends nothing."""
from __future__ import annotations

import datetime as dt
import logging
import uuid

from metro.db import Database
from metro.errors import AppError
from metro.schemas.notify import AlertKind
from metro.service_auth import Principal, ServiceClient
from notify import i18n, render, repository, service

log = logging.getLogger(__name__)


def portfolio(buildings: list[dict]) -> list[dict]:
    """Consent's buildings as the meters consumption reads (PortfolioMeter)."""
    return [{"meter_id": m["id"], "building_id": b["id"], "building": b["name"], "site": b["site"],
             "use_type": b["use_type"], "heated_area_m2": b["heated_area_m2"], "identifier": m["identifier"],
             "label": m["label"], "energy": m["energy"], "heating_energy": b["heating_energy"]}
            for b in buildings for m in b["meters"]]


async def excess_of(services: ServiceClient, org_id: uuid.UUID, start: dt.date, end: dt.date) -> dict:
    buildings = await services.json("consent", "GET", f"/internal/orgs/{org_id}/portfolio",
                                    principal=Principal(org_id))
    return await services.json("consumption", "POST", "/internal/orgs/excess",
                               principal=Principal(org_id),
                               json={"start": start.isoformat(), "end": end.isoformat(),
                                     "meters": portfolio(buildings)})


async def run_digests(db: Database, services: ServiceClient, config: service.MailConfig, start: dt.date,
                      end: dt.date, label: str) -> dict:
    """Records one digest per member of each organisation with excess in [start, end); a re-run records
    nothing new."""
    async with db.session() as session:
        orgs = await repository.organisations(session)
    stats = {"organisations": len(orgs), "with_excess": 0, "recorded": 0, "failed": 0}
    for org_id, (name, members) in orgs.items():
        try:
            body = await excess_of(services, org_id, start, end)
        except AppError as exc:
            log.warning("excess unavailable", extra={"org_id": str(org_id), "error": exc.code})
            stats["failed"] += 1
            continue
        if not body["buildings"]:
            continue
        stats["with_excess"] += 1
        link = f"{config.public_url}/orgs/{org_id}"
        async with db.session() as session, session.begin():
            audience = await repository.audience(session, members)
            for member in members:
                email, language, settings = audience.get(member, (None, None, None))
                if email is None or AlertKind.anomaly not in service.effective(settings).email.alerts:
                    continue
                lang = i18n.language(language)
                unsubscribe_url = config.unsubscribe_url(member, AlertKind.anomaly.value)
                rendered = render.org_digest(lang, name, start, end, body, link, unsubscribe_url)
                stats["recorded"] += await repository.insert_message(session, service.new_message(
                    config, member, "org_digest", f"org_digest:{label}:{org_id}:{member}", rendered,
                    unsubscribe_url))
    return stats
