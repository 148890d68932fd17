"""Makes the services' signing keys for a deployment: one Ed25519 private key per service (<dir>/<service>.pem,
for its Secret's METRO_<SERVICE>_SIGNING_KEY) and the JSON of every public key (<dir>/service_keys.json, for
every Secret's METRO_<SERVICE>_SERVICE_KEYS). Existing keys are kept, so running it again after adding a service
changes nothing else.

    uv run python scripts/service_keys.py keys/
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from metro.service_auth import public_key_of
from metro.services import NAMES


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    public = {}
    for name in NAMES:
        path = folder / f"{name}.pem"
        if not path.exists():
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            path.touch(mode=0o600)
            path.write_bytes(pem)
        public[name] = public_key_of(path.read_text())
    (folder / "service_keys.json").write_text(json.dumps(public))
    print(f"{len(public)} keys in {folder}: {', '.join(NAMES)}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "keys"))
