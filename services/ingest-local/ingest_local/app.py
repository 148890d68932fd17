"""The ingest-local service: the local operators' file feeds (GreenAlp electricity and gas, CCIAG district heat,
Eau de Grenoble water), read by per-operator profiles, from an SFTP drop or an authenticated upload."""
from __future__ import annotations

from pathlib import Path

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from ingest_local import api, handlers, models, privacy, worker
from metro.app import ServiceSpec
from metro.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_INGEST_LOCAL_", extra="ignore")

    sftp_host: str = "127.0.0.1"
    sftp_port: int = 2223
    sftp_username: str = "metro"
    sftp_key_path: str | None = None
    # OpenSSH known_hosts naming the drop's host key; without it the key is not checked, which only local mode
    # allows.
    sftp_known_hosts: str | None = None
    sftp_timeout_s: float = 30
    # Each operator has a folder on the drop: it leaves its files in <operator>/<inbound_dir> and takes the
    # platform's consented-meter lists from <operator>/<outbound_dir>.
    inbound_dir: str = "depot"
    outbound_dir: str = "retour"
    # The operators polled on the drop; the others push through the upload endpoint.
    sftp_operators: tuple[str, ...] = ("greenalp", "cciag", "eau_de_grenoble")
    # Upload credentials, one per operator that pushes: {"cciag": "<token>"} (a long random secret each, sent
    # as "Authorization: Bearer <token>").
    upload_tokens: dict[str, str] = {}
    poll_interval_s: float = 300
    raw_retention_days: int = 90
    max_file_bytes: int = 64 * 1024 * 1024
    files_per_transaction: int = 40

    @model_validator(mode="after")
    def _refuse_unchecked_host_key(self):
        if not self.local_mode and not self.sftp_known_hosts:
            raise ValueError("sftp_known_hosts is required outside local mode: the operators' drop host key must "
                             "be checked before any file is taken from it")
        for operator, token in self.upload_tokens.items():
            if len(token) < 24:
                raise ValueError(f"the upload token of {operator} is shorter than 24 characters")
        return self

    def secrets(self) -> dict[str, str]:
        return {**super().secrets(), **{f"upload_tokens.{k}": v for k, v in self.upload_tokens.items()}}


def spec() -> ServiceSpec:
    return ServiceSpec(name="ingest_local", package_dir=Path(__file__).parent,
                       routers=[api.router, api.uploads], outbox_table=models.outbox, inbox_table=models.inbox,
                       consumers=handlers.HANDLERS, workers=[worker.poll], on_start=[worker.open_cycle_lock],
                       personal_data=privacy.PERSONAL_DATA, before_erase=privacy.before_erase,
                       probes=[worker.probe])
