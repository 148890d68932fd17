"""GRDF ADICT v2 sandbox (see app.py): `create_app(SandboxConfig(...))`."""
from .app import SandboxConfig, create_app

__all__ = ["SandboxConfig", "create_app"]
