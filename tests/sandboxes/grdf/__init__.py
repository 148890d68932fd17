"""GRDF ADICT v2 sandbox (see app.py): `create_app(SandboxConfig(...))`."""
from .app import create_app
from .state import SandboxConfig

__all__ = ["SandboxConfig", "create_app"]
