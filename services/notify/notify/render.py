"""Turns facts into e-mails: Jinja2 templates, French and English, HTML and plain text."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from metro.events import AnomalyDetected, ConsentExpiring, ConsentRevoked
from notify import chart, i18n

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    png: bytes | None = None
    cid: str | None = None


def _render(name: str, lang: str, subject: str, unsubscribe_url: str | None, **context) -> tuple[str, str]:
    base = {"lang": lang, "t": i18n.TEXT[lang], "subject": subject, "unsubscribe_url": unsubscribe_url, **context}
    return (_env.get_template(f"{name}.txt.j2").render(base).strip() + "\n",
            _env.get_template(f"{name}.html.j2").render(base))


def alert(lang: str, subject: str, paragraphs: list[str], unsubscribe_url: str | None,
          link: tuple[str, str] | None = None) -> Rendered:
    text, html = _render("alert", lang, subject, unsubscribe_url, paragraphs=paragraphs,
                         link={"label": link[0], "url": link[1]} if link else None)
    return Rendered(subject, text, html)


# Where each link lands in the SPA; the token travels in the fragment, which browsers send to no server.
ACCOUNT_LINKS = {"verify_email": "/verify-email", "change_email": "/verify-email",
                 "reset_password": "/reset-password"}


def account_mail(lang: str, kind: str, app_url: str, link: str | None, new_email: str | None) -> Rendered:
    """An e-mail about the account (no unsubscribe: it is not optional). ``link`` is the full link, or a
    stand-in for its token."""
    t = i18n.TEXT[lang]
    if kind in ACCOUNT_LINKS:
        return alert(lang, t[f"{kind}_subject"], [t[f"{kind}_body"], t["not_you"]], None,
                     (t[f"{kind}_action"], link))
    body = t[f"{kind}_body"].format(new_email=new_email)
    return alert(lang, t[f"{kind}_subject"], [body, t["not_you_alert"]], None,
                 (t["forgot_action"], f"{app_url}/forgot-password"))


def anomaly(lang: str, event: AnomalyDetected, meter_url: str, unsubscribe_url: str) -> Rendered:
    t = i18n.TEXT[lang]
    body = t["anomaly_body"].format(
        start=i18n.date_text(event.start, lang), end=i18n.date_text(event.end, lang),
        observed=i18n.kwh(event.observed_wh, lang), expected=i18n.kwh(event.expected_wh, lang),
        excess=i18n.kwh(event.excess_wh, lang))
    return alert(lang, t["anomaly_subject"], [body, t["anomaly_hint"]], unsubscribe_url, (t["see_more"], meter_url))


def threshold(lang: str, meter: dict, month: dt.date, crossed: str, limit: str, meter_url: str,
              unsubscribe_url: str) -> Rendered:
    t = i18n.TEXT[lang]
    body = t["threshold_body"].format(month=i18n.month_text(month, lang),
                                      energy=i18n.ENERGY[lang].get(meter["energy"], meter["energy"]).lower(),
                                      forecast=crossed, threshold=limit)
    return alert(lang, t["threshold_subject"], [body], unsubscribe_url, (t["see_more"], meter_url))


def consent_expiring(lang: str, event: ConsentExpiring, meter_url: str, unsubscribe_url: str) -> Rendered:
    t = i18n.TEXT[lang]
    expires = event.expires_at.date()
    return alert(lang, t["expiring_subject"].format(days=event.days_left),
                 [t["expiring_body"].format(date=i18n.date_text(expires, lang))], unsubscribe_url,
                 (t["renew"], meter_url))


def consent_revoked(lang: str, event: ConsentRevoked, meter_url: str, unsubscribe_url: str) -> Rendered:
    t = i18n.TEXT[lang]
    return alert(lang, t["revoked_subject"], [t[f"revoked_body_{event.reason}"]], unsubscribe_url,
                 (t["renew"], meter_url))


def _choose_action(meters: list[dict], total_now: int, total_before: int | None) -> str:
    for m in meters:
        if m.get("peer_median_wh") and m["wh"] > 1.2 * m["peer_median_wh"]:
            return "heating_setpoint" if m["energy"] in ("gas", "heat") else "standby"
    if total_before and total_now > 1.1 * total_before:
        return "check_increase"
    if meters and all(m.get("peer_efficient_wh") and m["wh"] <= m["peer_efficient_wh"] for m in meters):
        return "keep_going"
    return "standby"


def report(lang: str, frequency: str, body: dict, app_url: str, unsubscribe_url: str, cid: str) -> Rendered:
    """``body`` is the consumption service's account report; its ``to`` is exclusive."""
    t = i18n.TEXT[lang]
    start = dt.date.fromisoformat(body["from"])
    end = dt.date.fromisoformat(body["to"]) - dt.timedelta(days=1)
    meters = sorted(body["meters"], key=lambda m: (m["energy"], str(m["meter_id"])))
    rows, notes = [], []
    total_wh, total_eur, eur_known = 0, Decimal(0), True
    last_year = [m.get("last_year_wh") for m in meters]
    total_before = sum(last_year) if last_year and all(v for v in last_year) else None
    for m in meters:
        wh = int(m.get("wh") or 0)
        total_wh += wh
        if m.get("eur") is None:
            eur_known = False
        else:
            total_eur += Decimal(str(m["eur"]))
        peers = t["no_comparison"]
        if m.get("peer_median_wh") and m.get("group_size"):
            peers = t["peer_sentence"].format(pct=i18n.percent_change(wh, m["peer_median_wh"], lang),
                                              n=m["group_size"], rank=m.get("rank") or "–")
        label = i18n.ENERGY[lang].get(m["energy"], m["energy"])
        rows.append({"energy_label": label, "kwh": i18n.kwh(wh, lang), "eur": i18n.eur(m.get("eur"), lang),
                     "vs_last_year": i18n.percent_change(wh, m.get("last_year_wh"), lang) or t["no_comparison"],
                     "vs_peers": peers})
        if m.get("days_missing"):
            notes.append(f"{label}: " + t["missing_days"].format(n=m["days_missing"]))
    days = [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    series: dict[str, dict[str, int]] = {}
    for m in meters:
        per_day = series.setdefault(m["energy"], {})
        for d in m.get("daily") or []:
            if d.get("wh") is not None:
                per_day[d["day"]] = per_day.get(d["day"], 0) + int(d["wh"])
    png = chart.daily_chart(days, series, i18n.ENERGY[lang])
    if frequency == "monthly":
        subject = t["report_subject_monthly"].format(period=i18n.month_text(start, lang))
    else:
        subject = t["report_subject_weekly"].format(period=i18n.date_text(start, lang))
    action = i18n.ACTIONS[_choose_action(meters, total_wh, total_before)][lang]
    text, html = _render(
        "report", lang, subject, unsubscribe_url, app_url=app_url, chart_cid=cid, meters=rows, notes=notes,
        intro=t["report_intro"].format(start=i18n.date_text(start, lang), end=i18n.date_text(end, lang)),
        total_kwh=i18n.kwh(total_wh, lang), total_eur=i18n.eur(total_eur if eur_known else None, lang),
        total_vs_last_year=i18n.percent_change(total_wh, total_before, lang) or "", action=action)
    return Rendered(subject, text, html, png, cid)


def org_digest(lang: str, org: str, start: dt.date, end: dt.date, body: dict, link: str,
               unsubscribe_url: str) -> Rendered:
    """The weekly excess digest of an organisation: per building, each meter's anomaly episodes."""
    t = i18n.TEXT[lang]
    last = end - dt.timedelta(days=1)
    buildings = []
    for b in body["buildings"]:
        meters = []
        for m in b["meters"]:
            lines = []
            for e in m["episodes"]:
                line = t["digest_episode"].format(
                    start=i18n.date_text(dt.date.fromisoformat(e["start"]), lang),
                    end=i18n.date_text(dt.date.fromisoformat(e["end"]), lang),
                    observed=i18n.kwh(e["observed_kwh"] * 1000, lang),
                    expected=i18n.kwh(e["expected_kwh"] * 1000, lang), excess=i18n.kwh(e["excess_kwh"] * 1000, lang))
                if e.get("excess_eur") is not None:
                    line += f" ({t['digest_cost'].format(eur=i18n.eur(e['excess_eur'], lang))})"
                lines.append(line)
            name = " – ".join(x for x in (m["label"], m["identifier"]) if x)
            meters.append({"name": f"{i18n.ENERGY[lang].get(m['energy'], m['energy'])} {name}", "lines": lines})
        buildings.append({"title": t["digest_building"].format(name=b["name"],
                                                                excess=i18n.kwh(b["excess_kwh"] * 1000, lang)),
                          "site": b.get("site"), "meters": meters})
    subject = t["digest_subject"].format(org=org, start=i18n.date_text(start, lang))
    intro = t["digest_intro"].format(org=org, start=i18n.date_text(start, lang), end=i18n.date_text(last, lang))
    text, html = _render("digest", lang, subject, unsubscribe_url, intro=intro, buildings=buildings,
                         link={"label": t["digest_action"], "url": link})
    return Rendered(subject, text, html)
