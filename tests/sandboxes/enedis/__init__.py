"""Enedis Data Connect sandbox: see README.md beside this file."""
from .app import create_app
from .state import RegisteredClient, SandboxConfig

__all__ = ["RegisteredClient", "SandboxConfig", "create_app"]
