"""Prints the gateway's OpenAPI document (the source of the SPA's typed client)."""
import json

from gateway.app import Settings, spec
from metro.app import create_service_app

print(json.dumps(create_service_app(spec(), Settings()).openapi(), indent=1, ensure_ascii=False))
