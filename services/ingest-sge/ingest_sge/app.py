"""The ingest-sge service: the Enedis SGE file channel (SFTP drop, AES/OpenPGP, R151, daily energy)."""
from __future__ import annotations

from pathlib import Path

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from ingest_sge import api, handlers, models, privacy, worker
from metro.app import ServiceSpec
from metro.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_INGEST_SGE_", extra="ignore")

    sftp_host: str = "127.0.0.1"
    sftp_port: int = 2222
    sftp_username: str = "metro"
    sftp_key_path: str | None = None
    # OpenSSH known_hosts file naming the drop's host key; without it the host key is not checked, which
    # only local mode allows.
    sftp_known_hosts: str | None = None
    sftp_dir: str = "flux_enedis/C5"
    sftp_timeout_s: float = 30
    # Hex AES keys, comma separated, newest first: Enedis rotates keys and old files need old keys.
    aes_keys: str = ""
    pgp_private_key_path: str | None = None
    pgp_passphrase: str = ""
    poll_interval_s: float = 300
    raw_retention_days: int = 90
    max_file_bytes: int = 64 * 1024 * 1024
    max_uncompressed_bytes: int = 150 * 1024 * 1024
    # One transaction imports at most this many files and this many bytes of them (all held in memory at once;
    # a file alone may reach max_file_bytes): well under the pod's 512 MiB beside one file's inflated parse.
    files_per_transaction: int = 40
    batch_bytes: int = 96 * 1024 * 1024

    @model_validator(mode="after")
    def _refuse_unchecked_host_key(self):
        if not self.local_mode and not self.sftp_known_hosts:
            raise ValueError("sftp_known_hosts is required outside local mode: the SGE drop's host key must be "
                             "checked before any file is taken from it")
        return self

    def secrets(self) -> dict[str, str]:
        return {**super().secrets(), **({"pgp_passphrase": self.pgp_passphrase} if self.pgp_passphrase else {})}


def spec() -> ServiceSpec:
    return ServiceSpec(name="ingest_sge", package_dir=Path(__file__).parent, routers=[api.router],
                       outbox_table=models.outbox, inbox_table=models.inbox, consumers=handlers.HANDLERS,
                       workers=[worker.poll], on_start=[worker.open_keyring], on_stop=[worker.close_keyring],
                       personal_data=privacy.PERSONAL_DATA, before_erase=privacy.before_erase,
                       probes=[worker.probe])
