"""An SFTP drop seen from the platform (the SGE drop, the local operators'): list, fetch, remove, and put for
the files the platform leaves there. Public-key auth (asyncssh)."""
from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass
from typing import Protocol

import asyncssh

from metro.dso import BadRequest, Transient

log = logging.getLogger(__name__)


class HostKeyRejected(BadRequest):
    """The drop answered with a host key that sftp_known_hosts does not name: it may not be the DSO's at all, so
    nothing is read from it, and retrying will not help until someone checks the key."""


@dataclass(frozen=True)
class DropEntry:
    name: str
    size: int
    mtime: int


class Drop(Protocol):
    async def list(self) -> list[DropEntry]: ...
    async def fetch(self, name: str) -> bytes: ...
    async def remove(self, entry: DropEntry) -> bool: ...
    async def put(self, name: str, data: bytes) -> None: ...


class SftpDrop:
    """One SSH connection per collection cycle; use as an async context manager."""

    def __init__(self, host: str, port: int, username: str, key_path: str | None, directory: str,
                 known_hosts: str | None = None, timeout: float = 30, label: str = "SGE"):
        self.label = label
        self._args = dict(host=host, port=port, username=username, known_hosts=known_hosts,
                          client_keys=[key_path] if key_path else None, connect_timeout=timeout)
        self.directory = directory
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None

    async def __aenter__(self) -> "SftpDrop":
        try:
            self._conn = await asyncssh.connect(**self._args)
            self._sftp = await self._conn.start_sftp_client()
        except asyncssh.HostKeyNotVerifiable as exc:
            await self.__aexit__(None, None, None)
            where = f"{self._args['host']}:{self._args['port']}"
            log.error("%s drop host key mismatch: %s is not the host in sftp_known_hosts; nothing taken from "
                      "the drop", self.label, where, extra={"code": "sftp_host_key_mismatch", "drop": where,
                                                "known_hosts": self._args["known_hosts"], "error": str(exc)})
            raise HostKeyRejected(f"the {self.label} drop at {where} presented a host key sftp_known_hosts does not name",
                                  code="sftp_host_key_mismatch") from exc
        except (OSError, asyncssh.Error) as exc:
            await self.__aexit__(None, None, None)
            raise Transient(f"{self.label} drop unreachable: {exc}", code="sftp_unavailable") from exc
        return self

    async def __aexit__(self, *exc) -> None:
        if self._sftp:
            self._sftp.exit()
        if self._conn:
            self._conn.close()
            await self._conn.wait_closed()

    def _path(self, name: str) -> str:
        return posixpath.join(self.directory, name)

    def at(self, directory: str) -> "SftpDrop":
        """The same connection seen from another folder of the drop (an operator's own, its outbound one)."""
        other = object.__new__(SftpDrop)
        other.__dict__.update(self.__dict__)
        other.directory = directory
        return other

    async def list(self) -> list[DropEntry]:
        assert self._sftp
        try:
            entries = await self._sftp.readdir(self.directory)
        except (OSError, asyncssh.Error) as exc:
            raise Transient(f"cannot list {self.directory}: {exc}", code="sftp_list_failed") from exc
        return [DropEntry(str(e.filename), int(e.attrs.size or 0), int(e.attrs.mtime or 0)) for e in entries
                if e.attrs.type == asyncssh.FILEXFER_TYPE_REGULAR and not str(e.filename).startswith(".")]

    async def fetch(self, name: str) -> bytes:
        assert self._sftp
        try:
            async with self._sftp.open(self._path(name), "rb") as f:
                return await f.read()
        except (OSError, asyncssh.Error) as exc:
            raise Transient(f"cannot read {name}: {exc}", code="sftp_read_failed") from exc

    async def remove(self, entry: DropEntry) -> bool:
        """Removes the file as it was listed; a file replaced since (a republication) stays for next time."""
        assert self._sftp
        path = self._path(entry.name)
        try:
            attrs = await self._sftp.stat(path)
            if int(attrs.size or 0) != entry.size or int(attrs.mtime or 0) != entry.mtime:
                return False
            await self._sftp.remove(path)
            return True
        except asyncssh.SFTPNoSuchFile:
            return False
        except (OSError, asyncssh.Error) as exc:
            raise Transient(f"cannot remove {entry.name}: {exc}", code="sftp_remove_failed") from exc

    async def put(self, name: str, data: bytes) -> None:
        """Writes under a dot name and renames, so the far end never reads half a file."""
        assert self._sftp
        tmp = self._path("." + name + ".part")
        try:
            async with self._sftp.open(tmp, "wb") as f:
                await f.write(data)
            await self._sftp.posix_rename(tmp, self._path(name))
        except (OSError, asyncssh.Error) as exc:
            raise Transient(f"cannot write {name}: {exc}", code="sftp_write_failed") from exc
