"""The R151 XML of an SGE file read as a stream into readings (``parse_r151``), and ``BadFile``, the error of
any file that cannot be read (``ingest_sge.r151`` decrypts and unzips it first).

Pure functions, no database and no network.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple, Protocol

from lxml import etree


class BadFile(Exception):
    """A file that cannot be read; ``reason`` is a stable code for metrics, logs and the quarantine."""

    REASONS = frozenset({"not_r151_name", "decrypt_failed", "pgp_unavailable", "too_large", "bad_zip",
                         "zip_bomb", "zip_layout", "invalid_xml", "xml_entities_forbidden", "not_r151",
                         "bad_value"})

    def __init__(self, reason: str, detail: str = ""):
        assert reason in self.REASONS, reason
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Header:
    created: dt.datetime | None
    abonnement: str
    contrat: str
    destinataire: str
    index_unit: str
    power_unit: str


class Reading(NamedTuple):
    """One Donnees_Releve: the distributor registers at the END of ``day`` (00:00 Paris on day+1)."""
    prm: str
    day: dt.date
    calendar: str
    registers: Mapping[str, int]
    supplier_calendar: str
    supplier_registers: Mapping[str, int]
    max_power_va: int | None
    affaire: str
    created: dt.datetime | None


# Reading, IndexState and DailyEnergy are immutable named tuples rather than frozen dataclasses: one of each
# per PRM-day, and a frozen dataclass's __init__ costs about a microsecond more per object. Where one is made
# per PRM-day, tuple.__new__ builds it from a tuple of every field: the named tuple's own __new__ is Python code
# that costs more (callgrind: ~3 400 instructions an object against ~2 000).
_new_reading = partial(tuple.__new__, Reading)
_INDEX_FACTOR = {"Wh": 1, "kWh": 1000}
_POWER_FACTOR = {"VA": 1, "kVA": 1000}


class Source(Protocol):
    def read(self, size: int, /) -> bytes: ...

    def close(self) -> None: ...


_SAFE = {"resolve_entities": False, "no_network": True, "huge_tree": False, "load_dtd": False,
         "remove_comments": True, "remove_pis": True}


def parse_r151(stream: Source) -> Iterator[Reading]:
    """Yields readings PRM by PRM as the stream is read, so memory stays flat on 3 000-PRM files. The
    stream is closed when the readings end, read whole or not (the inflating thread stops).

    A file in Enedis's usual layout is read straight from its bytes while lxml checks them without building a
    tree (``_parse_usual``: ~3 times less CPU than lxml's elements read back in Python); from the first thing
    that layout does not foresee to the file's end, lxml's element tree is read (``_parse_tree``), so an
    unusual file reads to the same readings and fails with the same reason as if it had been read that way
    from its start."""
    try:
        yield from _parse(stream)
    finally:
        stream.close()


def _parse_tree(stream: Source, checked: _Replay | None = None) -> Iterator[Reading]:
    events = etree.iterparse(stream, events=("start", "end"), tag=("R151", "En_Tete_Flux", "PRM"), **_SAFE)
    header: Header | None = None
    index_factor = power_factor = 1
    try:
        for event, el in events:
            if event == "start":
                if el.tag == "R151":
                    _refuse_dtd(el)
                continue
            if el.tag == "En_Tete_Flux":
                header = _header(el)
                index_factor, power_factor = _factors(header)
            elif el.tag == "PRM":
                if header is None:
                    raise BadFile("not_r151", "PRM before En_Tete_Flux")
                yield from _prm(el, header, index_factor, power_factor)
                el.clear()
                while el.getprevious() is not None:
                    del el.getparent()[0]
        root = events.root
    except etree.XMLSyntaxError as exc:
        raise BadFile("invalid_xml", str(checked and checked.error or exc)) from exc
    if root is not None:
        _refuse_dtd(root)
    if root is None or root.tag != "R151" or header is None:
        raise BadFile("not_r151", f"root element {getattr(root, 'tag', None)!r}")


def _refuse_dtd(el: etree._Element) -> None:
    docinfo = el.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise BadFile("xml_entities_forbidden", "a DOCTYPE is never part of an R151 file")


def _factors(header: Header) -> tuple[int, int]:
    index_factor = _INDEX_FACTOR.get(header.index_unit, 0)
    power_factor = _POWER_FACTOR.get(header.power_unit, 0)
    if not index_factor or not power_factor:
        raise BadFile("not_r151", f"units {header.index_unit}/{header.power_unit}")
    return index_factor, power_factor


def _header(el: etree._Element) -> Header:
    if el.findtext("Identifiant_Flux") != "R151":
        raise BadFile("not_r151", f"Identifiant_Flux {el.findtext('Identifiant_Flux')!r}")
    created_text = el.findtext("Date_Creation")
    try:
        created = dt.datetime.fromisoformat(created_text) if created_text else None
    except ValueError as exc:
        raise BadFile("bad_value", f"Date_Creation {created_text!r}") from exc
    return Header(created=created, abonnement=el.findtext("Numero_Abonnement") or "",
                  contrat=el.findtext("Identifiant_Contrat") or "",
                  destinataire=el.findtext("Identifiant_Destinataire") or "",
                  index_unit=el.findtext("Unite_Mesure_Index") or "Wh",
                  power_unit=el.findtext("Unite_Mesure_Puissance") or "VA")


_PRM_ID, _RELEVE = "Id_PRM", "Donnees_Releve"
_DIST, _SUPPLIER, _PMAX = "Classe_Temporelle_Distributeur", "Classe_Temporelle", "Puissance_Maximale"
_CLASS_ID, _VALUE = "Id_Classe_Temporelle", "Valeur"
_DAY, _CALENDAR, _SUPPLIER_CALENDAR, _AFFAIRE = ("Date_Releve", "Id_Calendrier_Distributeur",
                                                 "Id_Calendrier_Fournisseur", "Id_Affaire")


def _first_texts(el: etree._Element) -> tuple[str | None, str | None]:
    """``findtext("Id_Classe_Temporelle"), findtext("Valeur")`` of a class or power element in one walk
    over its children (ElementPath's findtext is Python code, the hot spot of a 3 000-PRM file)."""
    cid = value = None
    for child in el.getchildren():  # a list built in C: cheaper than lxml's child iterator
        tag = child.tag
        if tag == _CLASS_ID:
            if cid is None:
                cid = child.text or ""
        elif tag == _VALUE and value is None:
            value = child.text or ""
    return cid, value


def _prm(el: etree._Element, header: Header, index_factor: int, power_factor: int) -> Iterator[Reading]:
    first = next(el.iterchildren(_PRM_ID), None)
    prm = (first.text or "").strip() if first is not None else ""
    if len(prm) != 14 or not prm.isdigit():
        raise BadFile("bad_value", f"Id_PRM {prm!r}")
    created = header.created
    for rel in el.iterchildren(_RELEVE):
        dist: dict[str, int] = {}
        supplier: dict[str, int] = {}
        # The last of each field wins, the first of each class's id and value (as findtext reads them).
        day_text = calendar = supplier_calendar = affaire = None
        pmax: int | None = None
        try:
            for child in rel.getchildren():
                tag = child.tag
                if tag == _DIST:
                    cid, value = _first_texts(child)
                    dist[cid or ""] = int(value) * index_factor  # type: ignore[arg-type]
                elif tag == _SUPPLIER:
                    cid, value = _first_texts(child)
                    supplier[cid or ""] = int(value) * index_factor  # type: ignore[arg-type]
                elif tag == _PMAX:
                    pmax = int(_first_texts(child)[1]) * power_factor  # type: ignore[arg-type]
                elif tag == _DAY:
                    day_text = child.text or ""
                elif tag == _CALENDAR:
                    calendar = child.text or ""
                elif tag == _SUPPLIER_CALENDAR:
                    supplier_calendar = child.text or ""
                elif tag == _AFFAIRE:
                    affaire = child.text or ""
            if day_text is None:
                raise KeyError(_DAY)
            day = dt.date.fromisoformat(day_text.strip())
        except (TypeError, ValueError, KeyError) as exc:
            raise BadFile("bad_value", f"PRM {prm}: {exc}") from exc
        yield Reading(prm, day, calendar.strip() if calendar else "", dist,
                      supplier_calendar.strip() if supplier_calendar else "", supplier, pmax, affaire or "", created)




# ---- the usual layout, read from the bytes ----------------------------------------------------------

_READ = 1 << 15  # bytes asked of the stream at a time, as lxml's iterparse asks
_HEAD_MAX = 1 << 20  # a file whose first PRM starts later, or a PRM longer, is read as a tree
# XML 1.0 in UTF-8: the text of an element is then its bytes decoded (1.1 would read more line ends).
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml\s+version\s*=\s*(['\"])1\.0\1"
                          rb"(?:\s+encoding\s*=\s*(['\"])[Uu][Tt][Ff]-8\2)?(?:\s+standalone\s*=\s*(['\"])(?:yes|no)\3)?"
                          rb"\s*\?>")
# Before the first PRM: no DOCTYPE, comment, CDATA, processing instruction or reference, no default namespace and
# no other element named like a PRM, so that each "<PRM>" of the bytes is the next PRM element lxml would read.
_UNUSUAL_HEAD = re.compile(rb"<[!?]|&|xmlns\s*=|<[^\s>]*PRM")
# A PRM whose bytes hold none of these has all of its markup in its tags, and ends at the first "</PRM>".
_UNUSUAL_PRM = re.compile(rb"<[!?]|<(?:[^\s>/]*:)?PRM[\s/>]")
# No text of the usual layout holds a reference (lxml would wait for its ";" before checking further) and text
# that is read holds no carriage return (XML reads CR LF as LF): the bytes of a value are its text.
_READ_TEXT, _ANY_TEXT = rb"([^<&\r]*+)", rb"[^<&]*+"
# Registers read at most: 4 distributor classes (DI000003), 10 supplier ones (a Linky's ten registers).
_DIST_MAX, _SUPPLIER_MAX = 4, 10


def _leaf(tag: bytes, value: bytes = _ANY_TEXT) -> bytes:
    return b"(?:<%s>%s</%s>%s)?+" % (tag, value, tag, _ANY_TEXT)


def _registers(tag: bytes, count: int) -> bytes:
    """Up to ``count`` registers of ``tag``, each one's class and value captured."""
    one = (b"<%s>%s<Id_Classe_Temporelle>%s</Id_Classe_Temporelle>%s" % (tag, _ANY_TEXT, _READ_TEXT,
                                                                            _ANY_TEXT)
           + _leaf(b"Libelle_Classe_Temporelle") + _leaf(b"Rang_Cadran")
           + b"<Valeur>%s</Valeur>%s" % (_READ_TEXT, _ANY_TEXT)
           + _leaf(b"Indice_Vraisemblance") + b"</%s>%s" % (tag, _ANY_TEXT))
    return b"(?:" + b"(?:".join([one] * count) + b")?+" * count


# One Donnees_Releve in the R151 XSD's order, optional elements included; a PRM with anything else is read by lxml.
_USUAL_PRM = re.compile(b"<PRM>" + _ANY_TEXT + b"<Id_PRM>" + _READ_TEXT + b"</Id_PRM>" + _ANY_TEXT)
_USUAL_RELEVE = re.compile(
    b"<Donnees_Releve>" + _ANY_TEXT + _leaf(b"Date_Releve", _READ_TEXT)
    + _leaf(b"Id_Calendrier_Fournisseur", _READ_TEXT)
    + _leaf(b"Libelle_Calendrier_Fournisseur") + _leaf(b"Id_Calendrier_Distributeur", _READ_TEXT)
    + _leaf(b"Libelle_Calendrier_Distributeur") + _leaf(b"Id_Affaire", _READ_TEXT)
    + _registers(b"Classe_Temporelle_Distributeur", _DIST_MAX) + _registers(b"Classe_Temporelle", _SUPPLIER_MAX)
    + b"(?:<Puissance_Maximale>%s<Valeur>%s</Valeur>%s</Puissance_Maximale>%s)?+" % (
        _ANY_TEXT, _READ_TEXT, _ANY_TEXT, _ANY_TEXT)
    + b"</Donnees_Releve>" + _ANY_TEXT)
_SUPPLIER_AT = 4 + 2 * _DIST_MAX  # the groups: day, calendars, affaire, then (class, value) pairs, then max power
_PMAX_AT = _SUPPLIER_AT + 2 * _SUPPLIER_MAX


class _Checked:
    """A parser target without callbacks: lxml checks the bytes it is fed and builds nothing."""

    def close(self) -> None:
        return None


class _Replay:
    """``pieces``, then the rest of ``stream``: what the tree reads once the usual layout is left, cut where the
    stream's own reads were cut (lxml reports an error found in a read before or after the PRMs that read ends,
    as it happens). The checker, if any, goes on checking the rest, so that an error is told as found in the
    whole file (the tree, having skipped the PRMs already read, would name other lines)."""

    def __init__(self, pieces: list[bytes], stream: Source, checker: etree.XMLParser | None = None,
                 error: etree.XMLSyntaxError | None = None):
        self._pieces = [piece for piece in reversed(pieces) if piece]
        self._stream, self._checker, self.error = stream, checker, error

    def read(self, size: int = -1) -> bytes:
        if self._pieces:
            return self._pieces.pop()
        chunk = self._stream.read(size)
        if self._checker is not None:
            try:
                _check(self._checker, chunk)
            except _Unusual as exc:
                self.error = exc.error
            if self.error is not None or not chunk:
                self._checker = None
        return chunk

    def close(self) -> None:
        self._stream.close()


def _parse(stream: Source) -> Iterator[Reading]:
    chunks: list[bytes] = []
    buf, at = b"", -1
    while at < 0 and len(buf) < _HEAD_MAX and (chunk := stream.read(_READ)):
        chunks.append(chunk)
        buf += chunk
        at = buf.find(b"<PRM>", max(len(buf) - len(chunk) - 4, 0))
    head = _usual_head(buf, at)
    if head is None:
        replay = _Replay(chunks, stream)
        yield from _parse_tree(replay, replay)
    else:
        yield from _parse_usual(chunks, at, *head, stream)


def _usual_head(buf: bytes, at: int) -> tuple[Header, int, int] | None:
    """The header and units of a file whose bytes up to its first PRM, at ``at``, are in the usual layout; None
    for any other file (its tree is read, to the same readings or the same error)."""
    declaration = _DECLARATION.match(buf)
    if at < 0 or declaration is None or _UNUSUAL_HEAD.search(buf, declaration.end(), at):
        return None
    parser = etree.XMLPullParser(events=("start", "end"), tag=("R151", "En_Tete_Flux"), **_SAFE)
    try:
        parser.feed(buf[:at])
        events = list(parser.read_events())
        if ([(event, el.tag) for event, el in events] != [("start", "R151"), ("start", "En_Tete_Flux"),
                                                          ("end", "En_Tete_Flux")]
                or events[0][1].getparent() is not None):
            return None
        header = _header(events[2][1])
        return (header, *_factors(header))
    except (etree.XMLSyntaxError, BadFile):
        return None


class _Unusual(Exception):
    """Bytes the usual layout does not foresee, or an error lxml found in them: the tree reads them."""

    def __init__(self, error: etree.XMLSyntaxError | None = None):
        super().__init__(error)
        self.error = error


def _check(checker: etree.XMLParser, chunk: bytes) -> None:
    try:
        checker.feed(chunk) if chunk else checker.close()
    except etree.XMLSyntaxError as exc:
        raise _Unusual(exc) from exc


def _parse_usual(chunks: list[bytes], at: int, header: Header, index_factor: int, power_factor: int,
                 stream: Source) -> Iterator[Reading]:
    """PRM after PRM from the bytes, each once lxml has checked them; a PRM outside the usual layout but with all
    its markup in tags is read from its element, parsed alone after the file's head. From anything else, the
    first error lxml finds or the file's end, the tree reads the head and the bytes from there on."""
    checker = etree.XMLParser(target=_Checked(), **_SAFE)
    try:
        for chunk in chunks:
            _check(checker, chunk)
    except _Unusual as exc:
        replay = _Replay(chunks, stream, error=exc.error)
        yield from _parse_tree(replay, replay)
        return
    buf = b"".join(chunks)
    head, pos, chunk = buf[:at], at, b""
    try:
        while True:
            while (lt := buf.find(b"<", pos)) >= 0 and len(buf) - lt >= 5:
                if buf.find(b"&", pos, lt) >= 0:
                    raise _Unusual
                end = buf.find(b"</PRM>", lt) if buf.startswith(b"<PRM>", lt) else -2
                if end == -1 and len(buf) - lt < _HEAD_MAX:
                    break  # the PRM goes on in the next bytes
                if end < 0:
                    raise _Unusual
                readings = _usual_prm(buf, lt, end, header.created, index_factor, power_factor)
                if readings is None:
                    readings = _prm(_element(head, buf[lt:end + 6]), header, index_factor, power_factor)
                yield from readings
                pos = end + 6
            if lt < 0:
                if buf.find(b"&", pos) >= 0:
                    raise _Unusual
                pos = len(buf)  # text between two PRMs, which nothing reads
            chunk = stream.read(_READ)
            if not chunk:
                break
            _check(checker, chunk)
            buf, pos = buf[pos:] + chunk, 0
    except _Unusual as exc:
        # An error in the bytes last read: the tree reads them as they were read, after the PRM left unread.
        replay = _Replay([head + buf[pos:], chunk] if exc.error else [head + buf[pos:]], stream,
                         None if exc.error else checker, exc.error)
    else:
        replay = _Replay([head + buf[pos:]], stream, checker)
    yield from _parse_tree(replay, replay)


def _element(head: bytes, prm: bytes) -> etree._Element:
    """The PRM element of ``prm``'s bytes, parsed after the file's head as the tree parses it; only a PRM with all
    its markup in tags (no comment, CDATA or processing instruction, no PRM inside) is parsed this way."""
    if _UNUSUAL_PRM.search(prm, 1):
        raise _Unusual
    parser = etree.XMLPullParser(events=("end",), tag="PRM", **_SAFE)
    try:
        parser.feed(head + prm)
    except etree.XMLSyntaxError as exc:
        raise _Unusual from exc
    for _, el in parser.read_events():
        return el
    raise _Unusual


def _usual_prm(buf: bytes, pos: int, end: int, created: dt.datetime | None, index_factor: int,
               power_factor: int) -> list[Reading] | None:
    """The readings of the PRM whose bytes run from ``pos`` to its end tag at ``end``; None if they are not in the
    usual layout or hold a value lxml's text would not make either (the tree reads them, to the same error)."""
    m = _USUAL_PRM.match(buf, pos, end)
    if m is None:
        return None
    prm = m[1].decode().strip()
    if len(prm) != 14 or not prm.isdigit():
        return None
    readings = []
    at = m.end()
    try:
        while at < end:
            r = _USUAL_RELEVE.match(buf, at, end)
            if r is None or r[1] is None:
                return None
            g = r.groups()
            day, supplier_calendar, calendar, affaire = g[:4]
            pmax = g[_PMAX_AT]
            readings.append(_new_reading((
                prm, dt.date.fromisoformat(day.decode().strip()), calendar.decode().strip() if calendar else "",
                _register_values(g, 4, _SUPPLIER_AT, index_factor),
                supplier_calendar.decode().strip() if supplier_calendar else "",
                _register_values(g, _SUPPLIER_AT, _PMAX_AT, index_factor),
                None if pmax is None else int(pmax) * power_factor, affaire.decode() if affaire else "", created)))
            at = r.end()
    except ValueError:  # a date or a number lxml's text would not make either (UnicodeDecodeError included)
        return None
    return readings


def _register_values(groups: tuple, start: int, stop: int, factor: int) -> dict[str, int]:
    values = {}
    for i in range(start, stop, 2):
        if groups[i] is None:
            break
        values[groups[i].decode()] = int(groups[i + 1]) * factor
    return values
