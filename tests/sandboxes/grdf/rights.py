"""Access rights (droits d'accès, GDA): how a declaration is checked and which right, if any, opens a PCE's data."""
from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from . import codes
from .gateway import gda_error, parse_day
from .meters import PCE_PATTERN, Customer, years_before
from .state import Sandbox

ROLES = ("AUTORISE_CONTRAT_FOURNITURE", "DETENTEUR_CONTRAT_FOURNITURE",
         "AUTORISE_CONTRAT_INJECTION", "DETENTEUR_CONTRAT_INJECTION")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
MOBILE = re.compile(r"^0[67]\d{8}$")
POSTCODE = re.compile(r"^\d{5}$")


def fold(text: str | None) -> str:
    """Upper case, no accents, single spaces: how names and états are compared."""
    raw = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in raw if not unicodedata.combining(c)).upper().replace("-", " ").split())


def public(right: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in right.items() if not k.startswith("_")}


def validate_declaration(sandbox: Sandbox, pce: str, body: dict[str, Any], client: str) -> dict[str, Any]:
    """PUT /pce/{id}/droit_acces checks, in the order the sandbox catalogue suggests (grdf-adict.md §7.4)."""
    today = sandbox.today()
    role = body.get("role_tiers")
    if role not in ROLES:
        raise gda_error(400, codes.ROLE_MISSING)
    name, company = (body.get("nom_titulaire") or "").strip(), (body.get("raison_sociale") or "").strip()
    if not name and not company:
        raise gda_error(400, codes.NAME_MISSING)
    if name and company:
        raise gda_error(400, codes.NAME_BOTH)
    authorised = role.startswith("AUTORISE")
    injection = role.endswith("INJECTION")
    email = body.get("courriel_titulaire")
    if authorised and not email:
        raise gda_error(400, codes.EMAIL_MISSING)
    if email and not (isinstance(email, str) and EMAIL.match(email)):
        raise gda_error(400, codes.EMAIL_FORMAT)
    phone = body.get("numero_telephone_mobile_titulaire")
    if phone and not (isinstance(phone, str) and MOBILE.match(phone)):
        raise gda_error(400, codes.PHONE_FORMAT)
    postcode = body.get("code_postal")
    if not postcode:
        raise gda_error(400, codes.POSTCODE_MISSING)
    if not (isinstance(postcode, str) and POSTCODE.match(postcode)):
        raise gda_error(400, codes.POSTCODE_FORMAT)

    access_start = access_end = None
    if authorised:
        access_start = parse_day(body.get("date_debut_droit_acces"))
        if access_start is None:
            raise gda_error(400, codes.ACCESS_START_FORMAT)
        access_end = parse_day(body.get("date_fin_droit_acces"))
        if access_end is None:
            raise gda_error(400, codes.ACCESS_END_FORMAT)
    flags: dict[str, str] = {}
    for key, code in (("perim_donnees_contractuelles", codes.PERIM_CONTRACTUAL),
                      ("perim_donnees_techniques", codes.PERIM_TECHNICAL),
                      ("perim_donnees_informatives", codes.PERIM_INFORMATIVE),
                      ("perim_donnees_publiees", codes.PERIM_PUBLISHED)):
        value = body.get(key)
        if value is None and not authorised:
            value = "Vrai"
        if not isinstance(value, str) or fold(value) not in ("VRAI", "FAUX"):
            raise gda_error(400, code)
        flags[key] = "Vrai" if fold(value) == "VRAI" else "Faux"
    perim_start = perim_end = inj_start = inj_end = None
    if injection:
        inj_start, inj_end = parse_day(body.get("perim_donnees_inj_debut")), parse_day(body.get("perim_donnees_inj_fin"))
        if inj_end is None:
            raise gda_error(400, codes.PERIM_INJ_END)
    else:
        perim_start = parse_day(body.get("perim_donnees_conso_debut"))
        perim_end = parse_day(body.get("perim_donnees_conso_fin"))
        if authorised and perim_start is None:
            raise gda_error(400, codes.PERIM_CONSO_START)
        if authorised and perim_end is None:
            raise gda_error(400, codes.PERIM_CONSO_END)
    if access_start is None:
        access_start, access_end = today, years_before(today, -5)
    assert access_end is not None
    if perim_start is None:
        perim_start, perim_end = years_before(today, 5), access_end
    assert perim_end is not None
    if access_end < today:
        raise gda_error(409, codes.ACCESS_END_PAST)
    if access_start > today:
        raise gda_error(409, codes.ACCESS_START_FUTURE)
    if perim_start > today:
        raise gda_error(409, codes.PERIM_START_FUTURE)
    if perim_end < perim_start:
        raise gda_error(409, codes.PERIM_END_BEFORE_START)
    if perim_end > access_end:
        raise gda_error(409, codes.PERIM_END_AFTER_ACCESS)

    if not PCE_PATTERN.match(pce):
        raise gda_error(400, codes.PCE_FORMAT)
    customer = sandbox.customers.get(pce)
    if customer is None:
        raise gda_error(404, codes.UNKNOWN_PCE)
    if postcode != customer.postal_code:
        raise gda_error(409, codes.POSTCODE_MISMATCH)
    if not holder_matches(customer, name, company):
        raise gda_error(409, codes.HOLDER_MISMATCH)
    if customer.supply_ended is not None and customer.supply_ended <= today:
        raise gda_error(409, codes.SUPPLY_ENDED)
    for other in sandbox.rights.values():
        if other["_client"] == client and other["id_pce"] == pce and other["role_tiers"] == role:
            if other["etat_droit_acces"] == "Active" and other["date_fin_droit_acces"] >= today.isoformat():
                raise gda_error(409, codes.RIGHT_EXISTS)
            if other["etat_droit_acces"] == "A valider":
                raise gda_error(409, codes.PENDING_EXISTS)

    return {
        "id_droit_acces": str(uuid.uuid4()), "id_pce": pce, "role_tiers": role,
        "raison_sociale_du_tiers": sandbox.config.tiers_name,
        "nom_titulaire": name or None, "raison_sociale_du_titulaire": company or None,
        "courriel_titulaire": email or None, "numero_telephone_mobile_titulaire": phone or None,
        "code_postal": postcode,
        "date_debut_droit_acces": access_start.isoformat(), "date_fin_droit_acces": access_end.isoformat(),
        "perim_donnees_conso_debut": None if injection else perim_start.isoformat(),
        "perim_donnees_conso_fin": None if injection else perim_end.isoformat(),
        "perim_donnees_inj_debut": inj_start.isoformat() if inj_start else None,
        "perim_donnees_inj_fin": inj_end.isoformat() if inj_end else None,
        **flags,
        "date_creation": sandbox.stamp(),
        "etat_droit_acces": "A valider" if authorised else "Active",
        "date_revocation": None, "source_revocation": None,
        "date_passage_a_obsolete": None, "source_passage_a_obsolete": None,
        "date_fin_autorisation": None, "date_passage_a_refuse": None, "source_passage_a_refuse": None,
        "parcours": "TIERS_DIRECT", "statut_controle_preuve": None, "date_limite_transmission_preuve": None,
        "_client": client, "_created": sandbox.now(),
    }


def holder_matches(customer: Customer, name: str, company: str) -> bool:
    """GRDF checks the declared holder against the supply contract; a natural person may add a first name."""
    if company:
        return customer.company_name is not None and fold(company) == fold(customer.company_name)
    if customer.holder_name is None:
        return False
    declared, expected = fold(name), fold(customer.holder_name)
    return declared == expected or expected in declared.split(" ") or declared in expected.split(" ")


def resolve_right(sandbox: Sandbox, client: str, pce: str, flag: str) -> tuple[str, str] | dict[str, Any]:
    """The right that lets this tiers read this data, or the statut_restitution explaining why not."""
    customer = sandbox.customers.get(pce)
    today = sandbox.today()
    if customer is None:
        return codes.D_NOT_AUTHORISED
    if customer.supply_ended is not None and customer.supply_ended <= today:
        return codes.D_MOVED
    mine = sorted((r for r in sandbox.rights.values() if r["_client"] == client and r["id_pce"] == pce),
                  key=lambda r: r["_created"])
    active = [r for r in mine if r["etat_droit_acces"] == "Active"]
    current = [r for r in active if r["date_fin_droit_acces"] >= today.isoformat()]
    if current:
        right = current[-1]
        if fold(right.get(flag)) != "VRAI":
            return {"perim_donnees_informatives": codes.D_PERIM_INFORMATIVE,
                    "perim_donnees_publiees": codes.D_PERIM_PUBLISHED,
                    "perim_donnees_contractuelles": codes.D_PERIM_CONTRACTUAL,
                    "perim_donnees_techniques": codes.D_PERIM_TECHNICAL}[flag]
        return right
    if active:
        return codes.D_EXPIRED
    last = mine[-1] if mine else None
    if last is not None and last["etat_droit_acces"] == "Révoquée":
        return codes.D_TIERS_REVOKED if last.get("_revoked_by") == "tiers" else codes.D_HOLDER_REVOKED
    if last is not None and last["etat_droit_acces"] == "Obsolète":
        return codes.D_OBSOLETE
    return codes.D_NOT_AUTHORISED
