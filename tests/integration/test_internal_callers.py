"""Every internal route of every service says which services may call it, and those are the services whose
code calls it. ``python -m tests.integration.test_internal_callers`` prints the table."""
from __future__ import annotations

import importlib

from fastapi.routing import APIRoute

from metro.app import create_service_app
from metro.services import NAMES

# Who calls what, from the ServiceClient calls in each service (grep '"/internal/'); a route nobody calls
# today names the service it is there for.
EXPECTED = {
    "consent": {"/internal/consents/{consent_id}/dso-status": {"ingest_grdf", "ingest_local"},
                "/internal/file-consents": {"ingest_local"}, "/internal/orgs/{org_id}/portfolio": {"notify"}},
    "consumption": {"/internal/accounts": {"notify"}, "/internal/accounts/{account_id}/report": {"notify"},
                    "/internal/accounts/{account_id}/month": {"notify"},
                    "/internal/orgs/excess": {"gateway", "notify"}},
    "ingest_enedis": {"/internal/consent/authorize-url": {"consent"}, "/internal/consent/redirect": {"consent"},
                      "/internal/consent/confirmation": {"consent"},
                      "/internal/usage-points/{prm}/address": {"consent"},
                      "/internal/usage-points/{prm}/contract": {"consent"}},
    "ingest_grdf": {"/internal/access-rights": {"consent"}},
}


def declared_callers(route: APIRoute) -> list[frozenset[str]]:
    found, todo = [], [route.dependant]
    while todo:
        dependant = todo.pop()
        if hasattr(dependant.call, "allowed"):
            found.append(dependant.call.allowed)
        todo.extend(dependant.dependencies)
    return found


def flat(routes) -> list[APIRoute]:
    """The app's routes, inside included routers too (FastAPI keeps an included router as one route)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(flat(route.original_router.routes))
    return found


def internal_routes() -> list[tuple[str, str, str, list[frozenset[str]]]]:
    rows = []
    for name in NAMES:
        app_module = importlib.import_module(f"{name}.app")
        app = create_service_app(app_module.spec(), app_module.Settings())
        for route in flat(app.routes):
            if route.path.startswith("/internal"):
                for method in sorted(route.methods):
                    rows.append((name, method, route.path, declared_callers(route)))
    return rows


def test_every_internal_route_declares_its_callers_and_they_are_the_services_calling_it():
    rows = internal_routes()
    assert len(rows) > 60
    for service, method, path, declared in rows:
        assert len(declared) == 1, f"{service} {method} {path} declares {len(declared)} caller lists"
        expected = EXPECTED.get(service, {}).get(path, {"gateway"})
        assert declared[0] == expected, f"{service} {method} {path}: {sorted(declared[0])}, expected {expected}"


if __name__ == "__main__":
    for service, method, path, declared in internal_routes():
        print(f"{service:14} {method:6} {path:55} {', '.join(sorted(declared[0])) if declared else '-'}")
