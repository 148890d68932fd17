"""Words and number formats of the e-mails, in French and English."""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

LANGUAGES = ("fr", "en")
ENERGY = {
    "fr": {"electricity": "Électricité", "gas": "Gaz", "heat": "Chaleur (réseau)", "water": "Eau",
           "fuel_oil": "Fioul", "wood": "Bois"},
    "en": {"electricity": "Electricity", "gas": "Gas", "heat": "District heating", "water": "Water",
           "fuel_oil": "Fuel oil", "wood": "Wood"},
}
MONTHS = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}

TEXT = {
    "fr": {
        "greeting": "Bonjour,",
        "signature": "L'équipe MétroEnergies",
        "unsubscribe": "Ne plus recevoir ces e-mails",
        "unsubscribe_note": "Vous pouvez annuler ce désabonnement à tout moment dans l'application.",
        "report_subject_monthly": "Votre bilan énergie de {period}",
        "report_subject_weekly": "Votre bilan énergie de la semaine du {period}",
        "report_intro": "Voici votre consommation pour la période du {start} au {end}.",
        "total": "Total",
        "energy": "Énergie",
        "consumption": "Consommation",
        "cost": "Coût",
        "vs_last_year": "Par rapport à l'an dernier",
        "vs_peers": "Par rapport aux logements similaires",
        "no_comparison": "pas de comparaison possible",
        "peer_sentence": "{pct} par rapport à la médiane de {n} logements similaires (rang {rank} sur {n})",
        "missing_days": "{n} jour(s) sans données dans la période",
        "chart_alt": "Consommation journalière de la période",
        "action_title": "Une action pour le mois prochain",
        "see_more": "Voir le détail dans l'application",
        "anomaly_subject": "Consommation inhabituelle détectée",
        "anomaly_body": "Entre le {start} et le {end}, votre compteur a consommé {observed} alors que "
                        "{expected} étaient attendus, soit {excess} de plus que d'habitude.",
        "anomaly_hint": "Un appareil resté allumé, un chauffage d'appoint ou une fuite peuvent l'expliquer.",
        "digest_subject": "{org} : consommations excessives de la semaine du {start}",
        "digest_intro": "Voici, bâtiment par bâtiment, les compteurs de {org} dont la consommation a nettement "
                        "dépassé leur niveau habituel entre le {start} et le {end}.",
        "digest_building": "{name} : {excess} de trop",
        "digest_episode": "du {start} au {end} : {observed} consommés pour {expected} attendus, soit {excess} "
                          "de trop",
        "digest_cost": "environ {eur}",
        "digest_action": "Voir le suivi des dépassements",
        "threshold_subject": "Votre seuil mensuel risque d'être dépassé",
        "threshold_body": "D'après la consommation de {month} jusqu'ici, votre compteur {energy} devrait "
                          "atteindre {forecast} ce mois-ci, au-delà du seuil de {threshold} que vous avez fixé.",
        "expiring_subject": "Votre consentement expire dans {days} jours",
        "expiring_body": "Le consentement qui nous permet de collecter les données de votre compteur expire "
                         "le {date}. Renouvelez-le pour continuer à suivre votre consommation :",
        "revoked_subject": "La collecte de votre compteur est interrompue",
        "revoked_body_dso": "Le gestionnaire de réseau nous indique que votre consentement n'est plus valide. "
                            "La collecte est interrompue ; vous pouvez le renouveler ici :",
        "revoked_body_supply_ended": "Le contrat de fourniture de ce compteur a pris fin, la collecte est "
                                     "interrompue. Si vous avez un nouveau contrat, renouvelez votre "
                                     "consentement ici :",
        "renew": "Renouveler le consentement",
        "verify_email_subject": "Confirmez votre adresse e-mail",
        "verify_email_body": "Vous avez créé un compte MétroEnergies avec cette adresse. Confirmez-la pour "
                             "pouvoir autoriser la collecte des données de vos compteurs. Le lien est valable "
                             "48 heures et ne sert qu'une fois.",
        "verify_email_action": "Confirmer mon adresse",
        "change_email_subject": "Confirmez votre nouvelle adresse e-mail",
        "change_email_body": "Vous avez demandé que votre compte MétroEnergies utilise désormais cette adresse. "
                             "Le changement sera fait quand vous aurez suivi ce lien, valable 48 heures et une "
                             "seule fois.",
        "change_email_action": "Confirmer ma nouvelle adresse",
        "reset_password_subject": "Choisissez un nouveau mot de passe",
        "reset_password_body": "Quelqu'un, sans doute vous, a demandé à changer le mot de passe du compte "
                               "MétroEnergies de cette adresse. Le lien est valable 1 heure et ne sert qu'une fois.",
        "reset_password_action": "Choisir un nouveau mot de passe",
        "email_change_notice_subject": "Changement d'adresse e-mail demandé",
        "email_change_notice_body": "Il a été demandé que votre compte MétroEnergies utilise désormais l'adresse "
                                    "{new_email}. Rien ne change tant que le lien envoyé à cette adresse n'a pas "
                                    "été suivi.",
        "password_changed_subject": "Votre mot de passe a été changé",
        "password_changed_body": "Le mot de passe de votre compte MétroEnergies vient d'être changé ; les autres "
                                 "sessions ont été fermées.",
        "not_you": "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail.",
        "not_you_alert": "Si ce n'est pas vous, choisissez un nouveau mot de passe sans attendre :",
        "forgot_action": "Choisir un nouveau mot de passe",
    },
    "en": {
        "greeting": "Hello,",
        "signature": "The MétroEnergies team",
        "unsubscribe": "Stop receiving these e-mails",
        "unsubscribe_note": "You can undo this at any time in the app.",
        "report_subject_monthly": "Your energy report for {period}",
        "report_subject_weekly": "Your energy report for the week of {period}",
        "report_intro": "Here is your consumption from {start} to {end}.",
        "total": "Total",
        "energy": "Energy",
        "consumption": "Consumption",
        "cost": "Cost",
        "vs_last_year": "Compared with last year",
        "vs_peers": "Compared with similar homes",
        "no_comparison": "no comparison available",
        "peer_sentence": "{pct} against the median of {n} similar homes (rank {rank} of {n})",
        "missing_days": "{n} day(s) without data in the period",
        "chart_alt": "Daily consumption over the period",
        "action_title": "One action for next month",
        "see_more": "See the details in the app",
        "anomaly_subject": "Unusual consumption detected",
        "anomaly_body": "Between {start} and {end}, your meter used {observed} where {expected} was expected: "
                        "{excess} more than usual.",
        "anomaly_hint": "An appliance left on, an extra heater or a leak may explain it.",
        "digest_subject": "{org}: excess consumption in the week of {start}",
        "digest_intro": "Building by building, the meters of {org} whose consumption was well above their usual "
                        "level between {start} and {end}.",
        "digest_building": "{name}: {excess} too much",
        "digest_episode": "{start} to {end}: {observed} used where {expected} was expected, {excess} too much",
        "digest_cost": "about {eur}",
        "digest_action": "See the excess tracking",
        "threshold_subject": "Your monthly threshold may be exceeded",
        "threshold_body": "Based on {month} so far, your {energy} meter should reach {forecast} this month, "
                          "above the {threshold} threshold you set.",
        "expiring_subject": "Your consent expires in {days} days",
        "expiring_body": "The consent that lets us collect your meter's data expires on {date}. Renew it to "
                         "keep following your consumption:",
        "revoked_subject": "Collection from your meter has stopped",
        "revoked_body_dso": "The network operator tells us that your consent is no longer valid. Collection "
                            "has stopped; you can renew it here:",
        "revoked_body_supply_ended": "The supply contract of this meter has ended and collection has stopped. "
                                     "If you have a new contract, renew your consent here:",
        "renew": "Renew the consent",
        "verify_email_subject": "Confirm your e-mail address",
        "verify_email_body": "You created a MétroEnergies account with this address. Confirm it so that you can "
                             "allow the collection of your meters' data. The link is valid for 48 hours and "
                             "works once.",
        "verify_email_action": "Confirm my address",
        "change_email_subject": "Confirm your new e-mail address",
        "change_email_body": "You asked for your MétroEnergies account to use this address from now on. The "
                             "change is made once you follow this link, valid for 48 hours and once.",
        "change_email_action": "Confirm my new address",
        "reset_password_subject": "Choose a new password",
        "reset_password_body": "Someone, probably you, asked to change the password of the MétroEnergies "
                               "account of this address. The link is valid for 1 hour and works once.",
        "reset_password_action": "Choose a new password",
        "email_change_notice_subject": "E-mail address change requested",
        "email_change_notice_body": "It was asked that your MétroEnergies account use the address {new_email} "
                                    "from now on. Nothing changes until the link sent to that address is "
                                    "followed.",
        "password_changed_subject": "Your password was changed",
        "password_changed_body": "The password of your MétroEnergies account has just been changed; the other "
                                 "sessions were closed.",
        "not_you": "If you did not ask for this, ignore this e-mail.",
        "not_you_alert": "If this was not you, choose a new password now:",
        "forgot_action": "Choose a new password",
    },
}

ACTIONS = {
    "heating_setpoint": {
        "fr": "Baissez le chauffage de 1 °C : environ 7 % d'économie sur le chauffage.",
        "en": "Lower the heating by 1 °C: about 7 % less heating energy.",
    },
    "standby": {
        "fr": "Éteignez les appareils en veille la nuit avec une multiprise à interrupteur.",
        "en": "Switch off appliances on standby at night with a switched power strip.",
    },
    "check_increase": {
        "fr": "Votre consommation augmente : vérifiez les réglages du chauffe-eau et du chauffage.",
        "en": "Your consumption is rising: check the settings of the water heater and the heating.",
    },
    "keep_going": {
        "fr": "Vous faites partie des logements les plus sobres : continuez ainsi et partagez vos gestes.",
        "en": "Your home is among the most efficient: keep it up and share what works.",
    },
}


def language(value: str | None) -> str:
    return value if value in LANGUAGES else "fr"


def _group(number: str, sep: str) -> str:
    head, _, tail = number.partition(".")
    neg = head.startswith("-")
    head = head.lstrip("-")
    parts = []
    while len(head) > 3:
        parts.insert(0, head[-3:])
        head = head[:-3]
    parts.insert(0, head)
    return ("-" if neg else "") + sep.join(parts) + ("." + tail if tail else "")


def decimal_text(value: Decimal, places: int, lang: str) -> str:
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if lang == "fr":
        return _group(f"{q:f}", "\u202f").replace(".", ",")
    return _group(f"{q:f}", ",")


def kwh(wh: int | float | None, lang: str) -> str:
    if wh is None:
        return "–"
    return f"{decimal_text(Decimal(int(wh)) / 1000, 1, lang)} kWh"


def eur(value: Decimal | str | float | None, lang: str) -> str:
    if value is None:
        return "–"
    amount = decimal_text(Decimal(str(value)), 2, lang)
    return f"{amount} €" if lang == "fr" else f"€{amount}"


def percent_change(now: int | float | None, before: int | float | None, lang: str) -> str | None:
    if now is None or not before:
        return None
    change = (Decimal(int(now)) - Decimal(int(before))) * 100 / Decimal(int(before))
    text = decimal_text(change, 0, lang)
    return ("+" if change > 0 and not text.startswith("+") else "") + text + (" %" if lang == "fr" else "%")


def date_text(day: dt.date, lang: str) -> str:
    if lang == "fr":
        return f"{day.day} {MONTHS['fr'][day.month - 1]} {day.year}"
    return f"{day.day} {MONTHS['en'][day.month - 1]} {day.year}"


def month_text(day: dt.date, lang: str) -> str:
    return f"{MONTHS[lang][day.month - 1]} {day.year}"
