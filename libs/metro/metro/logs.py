"""Structured JSON logs carrying a correlation id (the request's or the event's)."""
from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

correlation_id: ContextVar[str] = ContextVar("correlation_id", default="-")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class _CorrelationFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        record.service = self.service
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
        rename_fields={"asctime": "ts", "levelname": "level", "name": "logger", "correlation_id": "request_id"},
    ))
    handler.addFilter(_CorrelationFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiormq", "aio_pika", "httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The request or event being handled, for what it sends on (service calls, events); None outside one."""
    value = correlation_id.get()
    return None if value == "-" else value


def accepted_request_id(value: str) -> str | None:
    """An incoming x-request-id kept as is when it is a plain token (it goes into logs and onto events)."""
    return value if _REQUEST_ID.fullmatch(value) else None
