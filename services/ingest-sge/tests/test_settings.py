"""ingest-sge refuses to start outside local mode when it could not tell the real SGE drop from another host."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from joserfc.jwk import OKPKey

from ingest_sge.app import Settings

PRODUCTION = {"local_mode": False, "signing_key": OKPKey.generate_key("Ed25519").as_pem(private=True).decode()}


def test_outside_local_mode_settings_without_known_hosts_are_refused():
    with pytest.raises(ValidationError, match="sftp_known_hosts is required outside local mode"):
        Settings(**PRODUCTION)


def test_outside_local_mode_a_known_hosts_file_is_enough():
    assert Settings(**PRODUCTION, sftp_known_hosts="/etc/metro/sge_known_hosts").sftp_known_hosts


def test_local_mode_may_leave_the_host_key_unchecked():
    assert Settings().sftp_known_hosts is None
