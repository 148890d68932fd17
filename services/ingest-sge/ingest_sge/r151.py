"""R151 files from the Enedis SGE drop: decrypt, unzip within bounds, parse safely (the XML:
``ingest_sge.r151_xml``; daily energy from the readings: ``ingest_sge.energy``).

Pure functions, no database and no network.
"""
from __future__ import annotations

import datetime as dt
import io
import queue
import re
import threading
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ingest_sge.r151_xml import BadFile, Reading, parse_r151

FILE_NAME = re.compile(
    r"^(?P<emitter>ERDF|ENEDIS)_R151_(?P<destinataire>[^_]+)_(?P<contrat>[^_]+)_(?P<abonnement>[^_]+)"
    r"_(?P<sequence>\d{5})_(?P<frequence>[^_]+)_(?P<x>\d{5})_(?P<y>\d{5})_(?P<created>\d{14})"
    r"\.zip(?P<pgp>\.(?:gpg|pgp|asc))?$")
ZIP_MAGIC = b"PK\x03\x04"
# DN999999 and INCONNU are the "no measurement" distributor calendars seen in production (~0.7 % of rows).
UNMEASURED_CALENDARS = frozenset({"INCONNU", "DN999999"})
DEFAULT_KVA = 36  # the C5 ceiling: the loosest plausibility bound when the subscribed power is unknown


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 64 * 1024 * 1024
    max_uncompressed_bytes: int = 150 * 1024 * 1024
    # Real R151 XML deflates about 20:1; a ratio far above that is a crafted archive.
    max_ratio: int = 200


@dataclass(frozen=True)
class FileName:
    name: str
    abonnement: str
    sequence: int
    x: int
    y: int
    created: dt.datetime  # local Paris wall time, as Enedis writes it in the name
    pgp: bool


def parse_file_name(name: str) -> FileName:
    m = FILE_NAME.match(name.rsplit("/", 1)[-1])
    if not m:
        raise BadFile("not_r151_name", name)
    return FileName(name=name, abonnement=m["abonnement"], sequence=int(m["sequence"]), x=int(m["x"]),
                    y=int(m["y"]), created=dt.datetime.strptime(m["created"], "%Y%m%d%H%M%S"),
                    pgp=bool(m["pgp"]))


# ---- decryption -------------------------------------------------------------------------------------

def _looks_pgp(data: bytes) -> bool:
    # New-format packet tag 1 (PKESK) or old-format tag 1: how every gpg-encrypted message starts.
    return len(data) > 2 and data[0] in (0x84, 0x85, 0x86, 0xC1)


def decrypt_aes(data: bytes, keys: Sequence[bytes]) -> bytes:
    """AES-CBC with the IV in the first 16 bytes and PKCS7. Each key of the ring is tried; a key is
    right only if the padding is valid and a ZIP comes out, so a stale key fails loudly."""
    if len(data) < 32 or len(data) % 16:
        raise BadFile("decrypt_failed", f"ciphertext length {len(data)} is not IV + whole AES blocks")
    iv, body = data[:16], data[16:]
    for key in keys:
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        head = dec.update(body[:16])
        if not head.startswith(ZIP_MAGIC):
            continue
        plain = head + dec.update(body[16:]) + dec.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(plain) + unpadder.finalize()
        except ValueError:
            continue
    raise BadFile("decrypt_failed", f"none of the {len(keys)} AES keys opens the file")


def decrypt_pgp(data: bytes, gpg: object | None, passphrase: str | None = None) -> bytes:
    if gpg is None:
        raise BadFile("pgp_unavailable", "an OpenPGP file arrived but no keyring is configured")
    result = gpg.decrypt(data, passphrase=passphrase)  # type: ignore[attr-defined]
    if not result.ok:
        raise BadFile("decrypt_failed", f"gpg: {result.status}")
    return bytes(result.data)


@dataclass(frozen=True)
class KeyRing:
    """AES keys (newest first, older ones kept for the archive) and an optional python-gnupg ``GPG``
    whose home holds the platform's private key."""
    aes_keys: tuple[bytes, ...] = ()
    gpg: object | None = None
    gpg_passphrase: str | None = None


def decrypt(name: str, data: bytes, keys: KeyRing, limits: Limits = Limits()) -> bytes:
    """The ZIP bytes of an SGE file, by the name's extension (``.zip.gpg``) or the OpenPGP magic."""
    if len(data) > limits.max_file_bytes:
        raise BadFile("too_large", f"{len(data)} bytes on the drop, limit {limits.max_file_bytes}")
    if data.startswith(ZIP_MAGIC):
        raise BadFile("decrypt_failed", "file is a clear ZIP; SGE files are always encrypted")
    armored = data.startswith(b"-----BEGIN PGP MESSAGE")
    if name.endswith((".gpg", ".pgp", ".asc")) or armored:
        return _zip_from_pgp(data, keys)
    try:
        return decrypt_aes(data, keys.aes_keys)
    except BadFile:
        # An AES file starts with a random IV, so the OpenPGP magic is only a fallback, never a first guess.
        if keys.gpg is not None and _looks_pgp(data):
            return _zip_from_pgp(data, keys)
        raise


def _zip_from_pgp(data: bytes, keys: KeyRing) -> bytes:
    plain = decrypt_pgp(data, keys.gpg, keys.gpg_passphrase)
    if not plain.startswith(ZIP_MAGIC):
        raise BadFile("bad_zip", "OpenPGP plaintext is not a ZIP")
    return plain


# ---- bounded unzip ----------------------------------------------------------------------------------

class _Bounded:
    """Counts inflated bytes as they are read, so a member that lies about its size is still stopped."""

    def __init__(self, member: IO[bytes], limit: int, compressed: int, max_ratio: int):
        self._member, self._limit, self._compressed, self._ratio = member, limit, max(compressed, 1), max_ratio
        self.read_bytes = 0

    def read(self, size: int) -> bytes:
        try:
            chunk = self._member.read(size)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise BadFile("bad_zip", str(exc)) from exc
        self.read_bytes += len(chunk)
        if self.read_bytes > self._limit:
            raise BadFile("too_large", f"member inflates beyond {self._limit} bytes")
        if self.read_bytes > 1 << 20 and self.read_bytes > self._compressed * self._ratio:
            raise BadFile("zip_bomb", f"inflated {self.read_bytes} from {self._compressed} compressed bytes")
        return chunk


# 32 KiB of XML a chunk, what lxml's iterparse reads at a time: a chunk still in the CPU's cache when libxml2
# parses it (measured: 256 KiB chunks cost ~15 % more CPU than 32 KiB ones).
_CHUNK = 1 << 15
_AHEAD = 32  # chunks inflated ahead of the parser at most: 1 MiB in flight whatever the file's size


def _inflate(source: _Bounded, chunks: queue.Queue, stop: threading.Event) -> None:
    """The inflating thread: zlib releases the GIL, so the next chunks inflate while lxml parses this one."""
    item: bytes | BaseException
    while not stop.is_set():
        try:
            item = source.read(_CHUNK)
        except BaseException as exc:  # handed to the parser's thread, which raises it where it reads
            item = exc
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                break
            except queue.Full:
                continue
        if not isinstance(item, bytes) or not item:
            return


class _Inflating:
    """The XML member as a stream inflated a few chunks ahead, in a thread, of what the parser has read.
    ``read`` returns the next inflated chunk whatever the size asked (lxml's iterparse takes any); closing
    it, or dropping it, stops the thread."""

    def __init__(self, source: _Bounded):
        self._chunks: queue.Queue = queue.Queue(_AHEAD)
        self._stop = threading.Event()
        self._eof = False
        # The thread holds the queue and the event, never this object, so dropping it runs __del__.
        threading.Thread(target=_inflate, args=(source, self._chunks, self._stop), name="sge-inflate",
                         daemon=True).start()

    def read(self, size: int = -1) -> bytes:
        if size is not None and size < 0:
            return b"".join(iter(lambda: self.read(_CHUNK), b""))
        if self._eof:
            return b""
        item = self._chunks.get()
        if isinstance(item, BaseException):
            self._eof = True
            self.close()
            raise item
        if not item:
            self._eof = True
        return item

    def close(self) -> None:
        self._stop.set()

    def __del__(self) -> None:
        self._stop.set()


def open_xml(zip_bytes: bytes, limits: Limits = Limits()) -> _Inflating:
    """The single XML member as a bounded stream (one XML per zip for R151), inflated in a thread as the
    parser reads it (``_Inflating``)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(zip_bytes))
        members = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise BadFile("bad_zip", str(exc)) from exc
    xml = [i for i in members if i.filename.lower().endswith(".xml")]
    if len(xml) != 1 or len(members) != 1:
        raise BadFile("zip_layout", f"expected one .xml member, found {[i.filename for i in members]}")
    info = xml[0]
    if info.file_size > limits.max_uncompressed_bytes:
        raise BadFile("too_large", f"{info.filename} declares {info.file_size} bytes, "
                                   f"limit {limits.max_uncompressed_bytes}")
    if info.file_size > 1 << 20 and info.file_size > max(info.compress_size, 1) * limits.max_ratio:
        raise BadFile("zip_bomb", f"declared ratio {info.file_size // max(info.compress_size, 1)}:1")
    try:
        member = zf.open(info)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise BadFile("bad_zip", str(exc)) from exc
    return _Inflating(_Bounded(member, limits.max_uncompressed_bytes, info.compress_size, limits.max_ratio))


def read_file(name: str, data: bytes, keys: KeyRing, limits: Limits = Limits()) -> Iterator[Reading]:
    """Encrypted SGE file → readings. Errors surface as ``BadFile`` while iterating."""
    return parse_r151(open_xml(decrypt(name, data, keys, limits), limits))
