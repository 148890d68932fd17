"""Rendering and delivery pieces on recorded data, without processes."""
from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from email import message_from_bytes, policy
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from metro.errors import AppError
from metro.schemas.notify import NotificationPreferences, QuietHours
from notify import render, reports, sender, service

REPORT = json.loads((Path(__file__).parent / "data" / "report_two_meters.json").read_text())


def _report(lang: str) -> render.Rendered:
    return render.report(lang, "monthly", REPORT, "https://app.example.org/", "https://app.example.org/u?t=x",
                         "chart-2025-01@example.org")


def test_monthly_report_shows_totals_per_energy_and_overall_in_english():
    r = _report("en")
    assert r.subject == "Your energy report for January 2025"
    assert "Electricity: 294.5 kWh, €62.12" in r.text
    assert "Gas: 1,023.0 kWh, €132.66" in r.text
    assert "Total: 1,317.5 kWh, €194.78" in r.text
    assert "Compared with last year: -2%" in r.text
    assert "rank 14 of 40" in r.text
    assert "Gas: 2 day(s) without data" in r.text
    assert "https://app.example.org/u?t=x" in r.text and 'href="https://app.example.org/u?t=x"' in r.html
    assert 'src="cid:chart-2025-01@example.org"' in r.html


def test_french_report_uses_french_words_and_number_format():
    r = _report("fr")
    assert r.subject == "Votre bilan énergie de janvier 2025"
    assert "Total: 1\u202f317,5 kWh, 194,78 €" in r.text
    assert "Ne plus recevoir ces e-mails" in r.html


def test_chart_is_a_png_image_with_bars():
    image = Image.open(io.BytesIO(_report("en").png))
    assert image.format == "PNG" and image.size == (640, 260)
    colours = {c for _, c in image.getcolors(100000)}
    assert (242, 169, 0) in colours and (46, 117, 182) in colours


def test_html_escapes_what_comes_from_data():
    r = render.alert("en", "Subject", ["<script>x</script>"], "https://u")
    assert "<script>" not in r.html and "&lt;script&gt;" in r.html


def test_mime_has_text_html_and_inline_png_in_one_related_part():
    r = _report("en")
    row = SimpleNamespace(subject=r.subject, message_id="<1@example.org>", created_at=dt.datetime.now(dt.UTC),
                          kind="report", unsubscribe_url="https://u", text_body=r.text, html_body=r.html,
                          inline_png=r.png, inline_cid=r.cid, secret=None)
    parsed = message_from_bytes(sender.build_mime(row, "a@example.org", "M <no-reply@example.org>").as_bytes(),
                                policy=policy.default)
    types = [p.get_content_type() for p in parsed.walk()]
    assert types == ["multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png"]
    image = [p for p in parsed.walk() if p.get_content_type() == "image/png"][0]
    assert image["Content-ID"] == f"<{r.cid}>" and image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_account_link_is_stored_without_its_token_and_sent_with_it(lang):
    config = service.MailConfig("https://app.example.org", "secret", "example.org")
    r = render.account_mail(lang, "reset_password", config.public_url, config.account_link("reset_password"), None)
    assert "https://app.example.org/reset-password#token={token}" in r.text and "{token}" in r.html
    assert "Ne plus recevoir" not in r.text and "Stop receiving" not in r.text  # not optional: no unsubscribe
    row = SimpleNamespace(subject=r.subject, message_id="<1@example.org>", created_at=dt.datetime.now(dt.UTC),
                          kind="reset_password", unsubscribe_url=None, text_body=r.text, html_body=r.html,
                          inline_png=None, inline_cid=None, secret="s3cr3t-T0ken")
    parsed = message_from_bytes(sender.build_mime(row, "a@example.org", "M <no-reply@example.org>").as_bytes(),
                                policy=policy.default)
    assert "/reset-password#token=s3cr3t-T0ken" in parsed.get_body(("plain",)).get_content()
    assert "/reset-password#token=s3cr3t-T0ken" in parsed.get_body(("html",)).get_content()
    assert parsed["List-Unsubscribe"] is None


def test_unsubscribe_token_round_trips_and_refuses_tampering():
    account = uuid.uuid4()
    token = service.unsubscribe_token("secret", account, "reports")
    assert service.read_unsubscribe_token("secret", token) == (account, "reports")
    with pytest.raises(AppError) as exc:
        service.read_unsubscribe_token("other-secret", token)
    assert exc.value.code == "invalid_unsubscribe_token"
    forged = service.unsubscribe_token("secret", account, "everything")
    with pytest.raises(AppError):
        service.read_unsubscribe_token("secret", forged)


def test_quiet_hours_across_midnight_delay_until_morning_paris_time():
    prefs = NotificationPreferences(quiet_hours=QuietHours(start=dt.time(22), end=dt.time(7)))
    night = dt.datetime(2025, 1, 15, 22, 30, tzinfo=dt.UTC)  # 23:30 in Paris
    assert service.after_quiet_hours(night, prefs) == dt.datetime(2025, 1, 16, 6, 0, tzinfo=dt.UTC)
    noon = dt.datetime(2025, 1, 15, 11, 0, tzinfo=dt.UTC)
    assert service.after_quiet_hours(noon, prefs) == noon


def test_last_complete_periods():
    assert reports.last_period("monthly", dt.date(2025, 3, 1)) == (dt.date(2025, 2, 1), dt.date(2025, 3, 1), "2025-02")
    assert reports.last_period("weekly", dt.date(2025, 1, 15)) == (dt.date(2025, 1, 6), dt.date(2025, 1, 13), "2025-W02")
    assert reports.period_of("weekly", "2025-W02")[:2] == (dt.date(2025, 1, 6), dt.date(2025, 1, 13))


def test_backoff_doubles_up_to_the_ceiling():
    assert [sender.backoff(n, 2, 600) for n in (1, 2, 3, 10, 20)] == [2, 4, 8, 600, 600]


def test_the_organisations_digest_is_due_from_monday_seven_paris_time_for_the_week_before():
    sunday_evening = dt.datetime(2025, 1, 19, 20, 0, tzinfo=dt.UTC)
    monday_early = dt.datetime(2025, 1, 20, 5, 30, tzinfo=dt.UTC)  # 06:30 in Paris
    monday_morning = dt.datetime(2025, 1, 20, 6, 5, tzinfo=dt.UTC)  # 07:05 in Paris
    assert ("org_digest", "2025-W02", (dt.date(2025, 1, 6), dt.date(2025, 1, 13))) in reports.due_jobs(
        sunday_evening, 7)
    assert reports.due_jobs(monday_early, 7) == []
    assert ("org_digest", "2025-W03", (dt.date(2025, 1, 13), dt.date(2025, 1, 20))) in reports.due_jobs(
        monday_morning, 7)


DIGEST = {"start": "2025-01-13", "end": "2025-01-20", "buildings": [
    {"building_id": "b1", "name": "École <Jaurès>", "site": None, "use_type": "school", "excess_kwh": 56.0,
     "excess_eur": 11.2, "meters": [{"meter_id": str(uuid.uuid4()), "identifier": "12345678901234", "label": None,
                                     "energy": "electricity", "episodes": [
                                         {"kind": "day", "start": "2025-01-14", "end": "2025-01-15",
                                          "observed_kwh": 80.0, "expected_kwh": 24.0, "excess_kwh": 56.0,
                                          "excess_eur": 11.2}]}]}]}


def test_the_digest_names_building_meter_and_figures_in_each_language_with_names_escaped():
    args = ("Ville de Fontaine", dt.date(2025, 1, 13), dt.date(2025, 1, 20), DIGEST, "https://app/orgs/x",
            "https://app/u")
    fr, en = render.org_digest("fr", *args), render.org_digest("en", *args)
    assert fr.subject == "Ville de Fontaine : consommations excessives de la semaine du 13 janvier 2025"
    assert "École <Jaurès> : 56,0 kWh de trop" in fr.text and "12345678901234" in fr.text
    assert "80,0 kWh consommés pour 24,0 kWh attendus" in fr.text and "environ 11,20 €" in fr.text
    assert "École &lt;Jaurès&gt;" in fr.html and "<Jaurès>" not in fr.html
    assert en.subject == "Ville de Fontaine: excess consumption in the week of 13 January 2025"
    assert "14 January 2025 to 15 January 2025" in en.text and "about €11.20" in en.text
