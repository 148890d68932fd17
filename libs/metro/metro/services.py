"""The services of the platform, listed once: every other list (ports, URLs, the gateway's saga, export, health
and collections, the local stack, ``make migrate``) is derived from this one.

``python -m metro.services`` prints their package names, one a line, in start order.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    # The import package (services/ingest-enedis holds ingest_enedis), also the service's name in service
    # tokens, queues and logs.
    name: str
    # Where it answers locally (ARCHITECTURE.md's port plan).
    port: int
    # The public edge: the others never call it, so it has no URL setting of theirs.
    public: bool = False
    # The gateway asks it for its part of a resident's export.
    exports: bool = True
    # Erases its part when the deletion saga asks, and confirms; the gateway runs the saga and erases last.
    erases: bool = True
    # The gateway's readiness depends on it.
    health: bool = True
    # The DSO whose data it collects; the channel (the meters' `channel`) when it tells each meter's freshness.
    dso: str | None = None
    channel: str | None = None


SERVICES: tuple[Service, ...] = (
    Service("gateway", 8000, public=True, exports=False, erases=False, health=False),
    Service("consent", 8001),
    Service("consumption", 8002),
    Service("notify", 8003),
    Service("ingest_enedis", 8011, dso="enedis", channel="dataconnect"),
    Service("ingest_grdf", 8012, dso="grdf", channel="adict"),
    Service("ingest_sge", 8013, dso="sge", channel="sge"),
    # GreenAlp, CCIAG and Eau de Grenoble: one connector for the local operators' file feeds.
    Service("ingest_local", 8014, dso="local", channel="file"),
)

NAMES = tuple(s.name for s in SERVICES)
PORTS = {s.name: s.port for s in SERVICES}
INTERNAL = tuple(s.name for s in SERVICES if not s.public)
EXPORTING = tuple(s.name for s in SERVICES if s.exports)
ERASING = tuple(s.name for s in SERVICES if s.erases)
HEALTH = tuple(s.name for s in SERVICES if s.health)
COLLECTORS = {s.dso: s.name for s in SERVICES if s.dso}
BY_CHANNEL = {s.channel: s.name for s in SERVICES if s.channel}

if __name__ == "__main__":
    print("\n".join(NAMES))
