"""The address base: the Base Adresse Nationale's CSV (``adresses-38.csv.gz``, ``;``-separated, UTF-8) filtered
to the Métropole's municipalities and kept in one table keyed by the BAN's id, for the dwelling form's
autocomplete.

An import is the base's new state: addresses new in the file are added, those whose fields differ are changed,
those no longer in it removed; importing the same file again changes nothing. A file with no address in the
Métropole is refused rather than emptying the base. ``python -m consent import-addresses FILE`` loads the full
file; ``POST /api/v1/admin/address-base`` does the same through the API."""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession

from consent import repository
from consent.address import normalise
from metro.db import Database
from metro.errors import AppError, PayloadTooLarge, Unprocessable
from metro.schemas.consent import AddressBaseImport, AddressSuggestion
from metro.settings import ServiceSettings
from metro.territory import MUNICIPALITIES

REQUIRED = ("id", "numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune", "lon", "lat")
# The BAN numbers a place without a street number (lieu-dit) 99999.
NO_NUMBER = "99999"
BATCH = 5_000
MIN_QUERY = 3
MAX_SUGGESTIONS = 10


def _refused(code: str, detail: str) -> Unprocessable:
    return Unprocessable(detail, code=code)


def _float(raw: str) -> float | None:
    try:
        return float(raw) if raw.strip() else None
    except ValueError:
        return None


def _row(line: int, cells: dict[str, str]) -> dict[str, Any] | None:
    """The table's row for one BAN line, None outside the Métropole."""
    insee = (cells.get("code_insee") or "").strip()
    if insee not in MUNICIPALITIES:
        return None
    ban_id, street = (cells.get("id") or "").strip(), (cells.get("nom_voie") or "").strip()
    postal_code, municipality = (cells.get("code_postal") or "").strip(), (cells.get("nom_commune") or "").strip()
    if not ban_id or not street or len(postal_code) != 5 or not municipality:
        raise _refused("address_file_bad_row", f"line {line}: id, nom_voie, code_postal (5 digits) and "
                                                       "nom_commune are required")
    numero = (cells.get("numero") or "").strip()
    number = "" if numero in ("", NO_NUMBER) else " ".join(p for p in (numero, (cells.get("rep") or "").strip()) if p)
    return {"id": ban_id, "number": number, "street": street, "postal_code": postal_code, "insee_code": insee,
            "municipality": municipality, "lon": _float(cells.get("lon") or ""), "lat": _float(cells.get("lat") or ""),
            "search": normalise(f"{number} {street} {postal_code} {municipality}")}


def _text(raw: IO[bytes]) -> io.TextIOBase:
    """The file as text, gunzipped when it is a .gz (the BAN publishes both)."""
    head = raw.read(2)
    raw.seek(0)
    stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if head == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def read_rows(raw: IO[bytes]) -> Iterator[dict[str, Any]]:
    """The Métropole's addresses of a BAN file, each id once (the last line wins)."""
    reader = csv.DictReader(_text(raw), delimiter=";")
    try:
        header = reader.fieldnames or []
    except (UnicodeDecodeError, EOFError, OSError, zlib.error) as exc:
        raise _refused("address_file_unreadable", f"not a UTF-8 CSV (or .csv.gz) file: {exc}") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise _refused("address_file_missing_column",
                               f"not a Base Adresse Nationale file: missing column(s) {', '.join(missing)}")
    try:
        for line, cells in enumerate(reader, start=2):
            row = _row(line, cells)
            if row is not None:
                yield row
    except (UnicodeDecodeError, EOFError, OSError, zlib.error, csv.Error) as exc:
        raise _refused("address_file_unreadable", f"the file could not be read to its end: {exc}") from None


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: dict[str, dict[str, Any]] = {}
    for row in rows:
        batch[row["id"]] = row
        if len(batch) >= BATCH:
            yield list(batch.values())
            batch = {}
    if batch:
        yield list(batch.values())


async def import_file(session: AsyncSession, raw: IO[bytes], *, dry_run: bool = False) -> AddressBaseImport:
    """Brings the table to the file's addresses; with ``dry_run`` the counts only, nothing kept."""
    savepoint = await session.begin_nested()
    await repository.open_address_import(session)
    rows = 0
    for batch in _batches(read_rows(raw)):
        rows += await repository.stage_addresses(session, batch)
    if rows == 0:
        await savepoint.rollback()
        raise _refused("address_file_empty", "the file holds no address in the Métropole's municipalities: "
                                                     "nothing imported")
    added, changed = await repository.merge_staged_addresses(session)
    removed = await repository.remove_unstaged_addresses(session)
    total = await repository.count_addresses(session)
    await repository.close_address_import(session)
    if dry_run:
        await savepoint.rollback()
    else:
        await savepoint.commit()
    return AddressBaseImport(rows=rows, added=added, changed=changed, removed=removed, total=total,
                             municipalities=await repository.address_municipalities(session) if not dry_run
                             else None, dry_run=dry_run)


async def spool(chunks: AsyncIterator[bytes], limit: int, target: IO[bytes]) -> None:
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the address file is larger than {limit} bytes", code="address_file_too_large")
        target.write(chunk)
    target.seek(0)


async def search(session: AsyncSession, q: str, limit: int = MAX_SUGGESTIONS) -> list[AddressSuggestion]:
    terms = normalise(q).split()
    if sum(len(t) for t in terms) < MIN_QUERY:
        raise AppError(f"type at least {MIN_QUERY} letters or digits", code="address_query_too_short",
                       status_code=422)
    rows = await repository.search_addresses(session, terms[:8], " ".join(terms), min(limit, MAX_SUGGESTIONS))
    return [AddressSuggestion(id=r.id, street=" ".join(p for p in (r.number, r.street) if p),
                              postal_code=r.postal_code, municipality=r.municipality, insee_code=r.insee_code,
                              label=f"{' '.join(p for p in (r.number, r.street) if p)}, {r.postal_code} "
                                    f"{r.municipality}")
            for r in rows]


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "import (or update) the address base from a Base Adresse Nationale file"
    parser.add_argument("file", type=Path, help="adresses-38.csv or adresses-38.csv.gz")
    parser.add_argument("--dry-run", action="store_true", help="count what would change, keep nothing")


async def import_command(args: argparse.Namespace, settings: ServiceSettings) -> int:
    db = Database.of(settings, "consent")
    try:
        with args.file.open("rb") as raw:
            async with db.session() as session, session.begin():
                result = await import_file(session, raw, dry_run=args.dry_run)
    except AppError as exc:
        print(f"{exc.code}: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(("dry run: " if result.dry_run else "") + f"{result.rows} addresses read: {result.added} added, "
          f"{result.changed} changed, {result.removed} removed; {result.total} in the base")
    return 0
