"""The ADICT sandbox speaks ADICT: token, droits d'accès, data endpoints, quotas and control calls."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.sandboxes.grdf import SandboxConfig, create_app
from tests.sandboxes.grdf.routes.oauth import TOKEN_PATH

NOW = dt.datetime(2025, 3, 10, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
TODAY = NOW.date()
API = "/adict/v2"


def sandbox(**overrides: object) -> httpx.AsyncClient:
    config = SandboxConfig(**({"now": NOW, "rate_per_second": None, "daily_cap": None} | overrides))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(config)), base_url="http://adict")


async def token(http: httpx.AsyncClient) -> dict:
    response = await http.post(TOKEN_PATH, data={"grant_type": "client_credentials", "client_id": "metro-grdf",
                                                  "client_secret": "sandbox-secret", "scope": "/adict/v2"})
    assert response.status_code == 200, response.text
    http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return response.json()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with sandbox() as client:
        await token(client)
        yield client


def declaration(**overrides: object) -> dict:
    body = {"role_tiers": "AUTORISE_CONTRAT_FOURNITURE", "nom_titulaire": "Dupont", "code_postal": "38000",
            "courriel_titulaire": "dupont@example.org", "date_debut_droit_acces": TODAY.isoformat(),
            "date_fin_droit_acces": "2027-12-31", "perim_donnees_conso_debut": "2021-01-01",
            "perim_donnees_conso_fin": "2027-12-31", "perim_donnees_contractuelles": "Vrai",
            "perim_donnees_techniques": "Vrai", "perim_donnees_informatives": "Vrai",
            "perim_donnees_publiees": "Vrai"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def lines(response: httpx.Response) -> list[dict]:
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


async def test_token_is_a_four_hour_bearer_for_the_adict_scope_only() -> None:
    async with sandbox() as http:
        body = await token(http)
        assert body["token_type"] == "Bearer" and 14_000 < body["expires_in"] <= 14_400
        assert "refresh_token" not in body
        bad = await http.post(TOKEN_PATH, data={"grant_type": "client_credentials", "client_id": "metro-grdf",
                                                "client_secret": "nope", "scope": "/adict/v2"})
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
        scope = await http.post(TOKEN_PATH, data={"grant_type": "client_credentials", "client_id": "metro-grdf",
                                                  "client_secret": "sandbox-secret", "scope": "/adict/v1"})
        assert scope.status_code == 400 and scope.json()["error"] == "invalid_scope"
        assert (await http.get(f"{API}/droits_acces", headers={"Authorization": "Bearer"})).status_code == 400
        assert (await http.get(f"{API}/droits_acces", headers={"Authorization": "Bearer x"})).status_code == 401
        await http.post("/_sandbox/clock", json={"advance_seconds": 4 * 3600})
        assert (await http.get(f"{API}/droits_acces")).status_code == 401


@pytest.mark.parametrize("overrides, status, code", [
    ({"role_tiers": None}, 400, "2000000006"),
    ({"nom_titulaire": None}, 400, "1000000026"),
    ({"raison_sociale": "ACME"}, 400, "1000000039"),
    ({"courriel_titulaire": None}, 400, "1000000028"),
    ({"courriel_titulaire": "dupont.example.org"}, 400, "1000000024"),
    ({"code_postal": None}, 400, "1000000027"),
    ({"code_postal": "3800"}, 400, "1000000036"),
    ({"perim_donnees_contractuelles": "true"}, 400, "1000000031"),
    ({"perim_donnees_conso_debut": None}, 400, "1000000041"),
    ({"date_fin_droit_acces": "2025-01-01", "perim_donnees_conso_fin": "2024-12-31"}, 409, "1000000022"),
    ({"date_debut_droit_acces": "2025-04-01"}, 409, "1000000022"),
    ({"perim_donnees_conso_fin": "2028-01-01"}, 409, "1000000022"),
    ({"code_postal": "38100"}, 409, "1000000005"),
    ({"nom_titulaire": "Durand"}, 409, "1000000022"),
])
async def test_declaration_is_validated_with_the_real_result_codes(http: httpx.AsyncClient, overrides: dict,
                                                                     status: int, code: str) -> None:
    response = await http.put(f"{API}/pce/38000000000001/droit_acces", json=declaration(**overrides))
    assert response.status_code == status, response.text
    assert response.json()["code_statut_traitement"] == code


async def test_unknown_and_badly_formed_pce_are_told_apart(http: httpx.AsyncClient) -> None:
    unknown = await http.put(f"{API}/pce/38999999999999/droit_acces", json=declaration())
    assert (unknown.status_code, unknown.json()["code_statut_traitement"]) == (404, "1000000006")
    malformed = await http.put(f"{API}/pce/3899999999999/droit_acces", json=declaration())
    assert (malformed.status_code, malformed.json()["code_statut_traitement"]) == (400, "1000000037")
    data = await http.get(f"{API}/pce/GI12345/donnees_consos_informatives",
                          params={"date_debut": "2025-01-01", "date_fin": "2025-02-01"})
    assert data.status_code == 400 and data.json()["statut_restitution"]["code"] == "1000005"


async def test_consent_life_cycle_a_valider_active_revoked(http: httpx.AsyncClient) -> None:
    created = await http.put(f"{API}/pce/38000000000001/droit_acces", json=declaration(nom_titulaire="Paul DUPONT"))
    assert created.status_code == 201
    right = created.json()
    assert (right["code_statut_traitement"], right["etat_droit_acces"]) == ("0000000002", "A valider")
    again = await http.put(f"{API}/pce/38000000000001/droit_acces", json=declaration())
    assert again.status_code == 409
    page = await http.get(f"/_sandbox/holder/{right['id_droit_acces']}")
    assert "38000000000001" in page.text and "accept" in page.text
    await http.post(f"/_sandbox/holder/{right['id_droit_acces']}/accept")

    listed = lines(await http.get(f"{API}/droits_acces"))
    assert listed[-1] == {"code_statut_traitement": "0000000000",
                          "message_retour_traitement": "L'opération s'est déroulée avec succès."}
    assert [r["etat_droit_acces"] for r in listed[:-1]] == ["Active"]
    duplicate = await http.put(f"{API}/pce/38000000000001/droit_acces", json=declaration())
    assert duplicate.json()["code_statut_traitement"] == "1000000003"

    filtered = lines(await http.post(f"{API}/droits_acces", json={"id_pce": ["GI380002"]}))
    assert filtered == [{"code_statut_traitement": "1000000001", "message_retour_traitement":
                         "Aucun droit d’accès trouvé."}]

    revoked = await http.patch(f"{API}/droit_acces/{right['id_droit_acces']}", json={})
    assert revoked.json()["code_statut_traitement"] == "0000000000"
    [state, _] = lines(await http.post(f"{API}/droits_acces", json={"etat_droit_acces": ["Révoquée"]}))
    assert state["source_revocation"] == "Tiers" and state["date_revocation"]
    twice = await http.patch(f"{API}/droit_acces/{right['id_droit_acces']}", json={})
    assert (twice.status_code, twice.json()["code_statut_traitement"]) == (404, "1000000001")
    not_uuid = await http.patch(f"{API}/droit_acces/38000000000001", json={})
    assert not_uuid.status_code == 500
    data = lines(await http.get(f"{API}/pce/38000000000001/donnees_consos_informatives",
                                params={"date_debut": "2025-03-01", "date_fin": "2025-03-05"}))
    assert [d["statut_restitution"]["message"] for d in data] == [
        "Vous avez révoqué votre droit d’accès aux données de ce PCE."]


async def test_an_unanswered_request_is_refused_after_the_validation_window(http: httpx.AsyncClient) -> None:
    right = (await http.put(f"{API}/pce/GI380002/droit_acces",
                            json=declaration(nom_titulaire="Martin", code_postal="38100"))).json()
    await http.post("/_sandbox/clock", json={"advance_seconds": 8 * 86400})
    await token(http)
    [listed, _] = lines(await http.get(f"{API}/droits_acces"))
    assert listed["id_droit_acces"] == right["id_droit_acces"] and listed["etat_droit_acces"] == "Refusée"
    assert listed["source_passage_a_refuse"] == "La durée de validité de la demande d'accréditation est dépassée."


async def test_detenteur_declaration_is_active_at_once_and_company_holder_must_match(
        http: httpx.AsyncClient) -> None:
    wrong = await http.put(f"{API}/pce/38000000000003/droit_acces", json={
        "role_tiers": "DETENTEUR_CONTRAT_FOURNITURE", "raison_sociale": "ACME", "code_postal": "38400"})
    assert wrong.json()["code_statut_traitement"] == "1000000022"
    right = await http.put(f"{API}/pce/38000000000003/droit_acces", json={
        "role_tiers": "DETENTEUR_CONTRAT_FOURNITURE", "raison_sociale": "OPH Grenoble Habitat",
        "code_postal": "38400"})
    assert right.status_code == 201
    assert (right.json()["code_statut_traitement"], right.json()["etat_droit_acces"]) == ("0000000000", "Active")


async def activate(http: httpx.AsyncClient, pce: str = "38000000000001", **overrides: object) -> str:
    body = declaration(**overrides)
    right = (await http.put(f"{API}/pce/{pce}/droit_acces", json=body)).json()
    await http.post(f"/_sandbox/access_rights/{right['id_droit_acces']}/accept")
    return right["id_droit_acces"]


async def test_informative_days_carry_energy_volume_coefficient_and_indexes(http: httpx.AsyncClient) -> None:
    await activate(http)
    data = lines(await http.get(f"{API}/pce/38000000000001/donnees_consos_informatives",
                                params={"date_debut": "2025-01-01", "date_fin": "2025-01-11"}))
    assert [d["consommation"]["journee_gaziere"] for d in data] == [f"2025-01-{i:02d}" for i in range(1, 11)]
    first = data[0]
    conso = first["consommation"]
    assert first["statut_restitution"] is None and first["periode"]["date_debut"] == "2025-01-01"
    assert conso["date_debut_consommation"] == "2025-01-01T06:00:00+01:00"
    assert conso["type_conso"] == "Informative Journalier" and conso["statut_conso"] == "Définitive"
    assert conso["volume_brut"] == (first["releve_fin"]["index_brut_fin"]["valeur_index"]
                                    - first["releve_debut"]["index_brut_debut"]["valeur_index"])
    assert 10.5 < conso["coeff_calcul"]["coeff_conversion"] < 12 and 20 < conso["energie"] < 150
    assert all(a["releve_fin"]["index_brut_fin"]["valeur_index"] == b["releve_debut"]["index_brut_debut"]
               ["valeur_index"] for a, b in zip(data, data[1:]))
    truth = (await http.get("/_sandbox/ground_truth/38000000000001",
                            params={"start": "2025-01-01", "end": "2025-01-11"})).json()["days"]
    assert [d["wh"] for d in truth] == [d["consommation"]["energie"] * 1000 for d in data]

    published = lines(await http.get(f"{API}/pce/38000000000001/donnees_consos_publiees",
                                     params={"date_debut": "2024-11-01", "date_fin": "2025-03-01"}))
    assert [p["consommation"]["date_debut_consommation"][:10] for p in published] == [
        "2024-11-01", "2024-12-01", "2025-01-01", "2025-02-01"]
    january = (await http.get("/_sandbox/ground_truth/38000000000001",
                              params={"start": "2025-01-01", "end": "2025-02-01"})).json()["days"]
    assert published[2]["consommation"]["energie"] * 1000 == sum(d["wh"] for d in january)


@pytest.mark.parametrize("params, message", [
    ({"date_debut": "2022-03-09", "date_fin": "2022-04-01"}, "date du jour - 3 ans"),
    ({"date_debut": "2025-03-01", "date_fin": "2025-03-11"}, "inférieur ou égal à la date du jour"),
    ({"date_debut": "2025-03-01", "date_fin": "2025-03-01"}, "antérieure à la date de fin"),
    ({"date_debut": "2025-3-1", "date_fin": "2025-03-05"}, "YYYY-MM-DD"),
    ({"date_debut": "2025-03-01"}, "'date_fin' est obligatoire"),
    ({"periode": "2024", "date_debut": "2024-01-01"}, "Seul le paramètre"),
    ({}, "doivent être renseignés"),
])
async def test_data_parameters_are_checked_with_http_400(http: httpx.AsyncClient, params: dict,
                                                         message: str) -> None:
    response = await http.get(f"{API}/pce/38000000000001/donnees_consos_informatives", params=params)
    assert response.status_code == 400
    assert message in response.json()["statut_restitution"]["message"]


async def test_history_depth_is_three_years_for_informatives_and_five_for_published(
        http: httpx.AsyncClient) -> None:
    await activate(http, perim_donnees_conso_debut="2020-01-01")
    old = {"date_debut": "2020-04-01", "date_fin": "2020-06-01"}
    assert (await http.get(f"{API}/pce/38000000000001/donnees_consos_informatives", params=old)).status_code == 400
    published = await http.get(f"{API}/pce/38000000000001/donnees_consos_publiees", params=old)
    assert published.status_code == 200 and len(lines(published)) == 2


async def test_business_errors_come_back_inside_http_200(http: httpx.AsyncClient) -> None:
    params = {"date_debut": "2025-01-01", "date_fin": "2025-01-05"}
    none = await http.get(f"{API}/pce/38000000000001/donnees_consos_informatives", params=params)
    assert none.status_code == 200 and lines(none)[0]["statut_restitution"]["code"] == "1000002"
    await activate(http, perim_donnees_informatives="Faux")
    excluded = await http.get(f"{API}/pce/38000000000001/donnees_consos_informatives", params=params)
    assert lines(excluded)[0]["statut_restitution"]["code"] == "1000010"
    await http.post("/_sandbox/customers", json={"pce": "GI000777", "holder_name": "Petit", "postal_code": "38000",
                                                 "commissioning": "2025-02-01"})
    await activate(http, "GI000777", nom_titulaire="Petit")
    empty = await http.get(f"{API}/pce/GI000777/donnees_consos_informatives", params=params)
    assert lines(empty)[0]["statut_restitution"]["code"] == "1000008"
    contract = (await http.get(f"{API}/pce/GI000777/donnees_contractuelles")).json()
    assert contract["statut_restitution"] is None and contract["donnees_contractuelles"]["tarif_acheminement"] == "T2"
    technical = (await http.get(f"{API}/pce/GI000777/donnees_techniques")).json()
    assert technical["donnees_techniques"]["caracteristiques_compteur"]["frequence"] == "1M"


async def test_customers_are_deterministic_and_have_seasonal_holed_series() -> None:
    body = {"pce": "38123456789012", "holder_name": "Roux", "postal_code": "38000", "profile": "heating",
            "holes": [["2024-12-10", "2024-12-12"]]}
    results = []
    for _ in range(2):
        async with sandbox() as http:
            created = await http.post("/_sandbox/customers", json=body)
            assert created.status_code == 201
            truth = await http.get("/_sandbox/ground_truth/38123456789012",
                                   params={"start": "2024-01-01", "end": "2025-01-01"})
            results.append(truth.json()["days"])
    assert results[0] == results[1]
    days = {d["day"]: d["wh"] for d in results[0]}
    assert "2024-12-11" not in days and len(days) == 366 - 3
    january = sum(v for k, v in days.items() if k.startswith("2024-01"))
    july = sum(v for k, v in days.items() if k.startswith("2024-07"))
    assert january > 4 * july
    async with sandbox() as http:
        bad = await http.post("/_sandbox/customers", json=body | {"pce": "GI12345"})
        assert bad.status_code == 422 and bad.json()["error"] == "bad_pce"


async def test_quotas_and_faults_answer_like_the_gateway() -> None:
    async with sandbox(rate_per_second=1.0, daily_cap=3) as http:
        await token(http)
        assert (await http.get(f"{API}/droits_acces")).status_code == 200
        fast = await http.get(f"{API}/droits_acces")
        assert fast.status_code == 429 and fast.headers["retry-after"] == "1"
        await http.post("/_sandbox/quotas", json={"rate_per_second": None, "daily_cap": 1})
        assert (await http.get(f"{API}/droits_acces")).status_code == 200
        capped = await http.get(f"{API}/droits_acces")
        assert capped.status_code == 429 and int(capped.headers["retry-after"]) > 3600

        await http.post("/_sandbox/quotas", json={"daily_cap": None})
        await http.post("/_sandbox/faults", json={"kind": "http_500", "count": 2})
        assert [(await http.get(f"{API}/droits_acces")).status_code for _ in range(3)] == [500, 500, 200]
        await http.post("/_sandbox/faults", json={"kind": "malformed_line"})
        with pytest.raises(json.JSONDecodeError):
            lines(await http.get(f"{API}/droits_acces"))
        await http.post("/_sandbox/faults", json={"kind": "outage", "minutes": 10})
        assert (await http.get(f"{API}/droits_acces")).status_code == 503
        assert (await http.post(TOKEN_PATH, data={})).status_code == 503
        await http.post("/_sandbox/clock", json={"advance_seconds": 601})
        assert (await http.get(f"{API}/droits_acces")).status_code == 200


async def test_a_failing_day_is_one_retry_line_in_the_middle_of_a_good_stream(http: httpx.AsyncClient) -> None:
    await activate(http)
    url, params = f"{API}/pce/38000000000001/donnees_consos_informatives", {"date_debut": "2025-01-01",
                                                                           "date_fin": "2025-01-11"}
    fault = {"kind": "failing_period", "pce": "38000000000001", "start": "2025-01-05", "count": 2}
    assert (await http.post("/_sandbox/faults", json=fault)).status_code == 200
    data = lines(await http.get(url, params=params))
    assert len(data) == 10 and data[4]["consommation"] is None
    assert data[4]["statut_restitution"]["code"] == "2000100"
    assert "période mentionnée ci-dessus" in data[4]["statut_restitution"]["message"]
    assert (data[4]["periode"]["date_debut"], data[4]["periode"]["date_fin"]) == ("2025-01-05", "2025-01-06")
    assert [d["consommation"]["journee_gaziere"] for d in data if d["consommation"]] == [
        f"2025-01-{i:02d}" for i in range(1, 11) if i != 5]
    # Other PCE and periods that miss the day are served whole and do not use the fault up.
    other = lines(await http.get(url, params={"date_debut": "2025-01-06", "date_fin": "2025-01-11"}))
    assert all(d["statut_restitution"] is None for d in other)
    alone = lines(await http.get(url, params={"date_debut": "2025-01-05", "date_fin": "2025-01-06"}))
    assert [d["statut_restitution"]["code"] for d in alone] == ["2000100"]
    served = lines(await http.get(url, params=params))
    assert all(d["statut_restitution"] is None for d in served) and len(served) == 10

    echoed = {**fault, "start": "2025-01-02", "end": "2025-01-04", "count": None, "echo_period": True,
              "code": "2000000"}
    await http.post("/_sandbox/faults", json=echoed)
    for _ in range(2):
        data = lines(await http.get(url, params=params))
        assert [d["statut_restitution"]["code"] for d in data if d["statut_restitution"]] == ["2000000"]
        assert data[1]["periode"]["date_debut"] == "2025-01-01" and len(data) == 9
    assert (await http.get("/_sandbox/faults")).json()["failing_periods"][-1]["remaining"] is None
    await http.delete("/_sandbox/faults")
    assert len(lines(await http.get(url, params=params))) == 10
    bad = await http.post("/_sandbox/faults", json={**fault, "code": "1000002"})
    assert bad.status_code == 422
