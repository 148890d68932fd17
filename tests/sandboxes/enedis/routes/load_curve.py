"""The consumption load curve: average power in W per interval, at most 7 days a call, 24 months of history, in
the v5 shape (also under /mesure_synchrone_auto/v1) and the 2026 v2 shape (``courbe_de_charge_consommation``)."""
from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from ..curves import curve_series, end_label
from ..gateway import Client, Sandbox, finish, v5_error
from ..state import SandboxState
from .metering import check_period, no_data, parse_window, published_series, router


async def load_curve(request: Request, state: SandboxState, client_id: str, shape: str) -> Response:
    q = request.query_params
    if shape == "v2":
        prm, start, end = parse_window(q.get("pointId"), q.get("dateDebut"), q.get("dateFin"), shape)
    else:
        prm, start, end = parse_window(q.get("usage_point_id"), q.get("start"), q.get("end"), shape)
    state.count_prm(prm, "data")
    state.counters["load_curve_calls"] += 1
    meter = check_period(state, client_id, prm, start, end, shape, "consumption", curve=True)
    if not meter.load_curve_enabled:
        raise v5_error("The customer objected to the load curve recording", "ADAM-ERR0075")
    points = curve_series(meter, published_series(state, meter, start, end))
    if not points:
        raise no_data(shape)
    if shape == "v2":
        body: dict[str, Any] = {
            "idPrm": prm, "etapeMetier": "BRUT",
            "periode": {"dateDebut": start.isoformat(), "dateFin": end.isoformat()}, "modeCalcul": "MESURE",
            "grandeur": [{"grandeurMetier": "CONS", "grandeurPhysique": "PA", "unite": "W", "points": [
                {"v": str(w), "d": end_label(at, minutes), "p": f"PT{minutes}M", "n": "B", "iv": "0", "ec": "0"}
                for at, minutes, w in points]}]}
        return finish(state, body)
    return finish(state, {"meter_reading": {
        "usage_point_id": prm, "start": start.isoformat(), "end": end.isoformat(), "quality": "BRUT",
        "reading_type": {"unit": "W", "measurement_kind": "power", "aggregate": "average"},
        "interval_reading": [{"value": str(w), "date": end_label(at, minutes), "interval_length": f"PT{minutes}M",
                              "measure_type": "B"} for at, minutes, w in points]}})


def bind(shape: str):
    async def endpoint(request: Request, state: Sandbox, client_id: Client) -> Response:
        return await load_curve(request, state, client_id, shape)
    return endpoint


for path in ("/metering_data_clc/v5/consumption_load_curve",
             "/mesure_synchrone_auto/v1/metering_data/consumption_load_curve"):
    router.add_api_route(path, bind("v5"), methods=["GET"])
router.add_api_route("/mesure_synchrone_auto/v2/courbe_de_charge_consommation", bind("v2"), methods=["GET"])
