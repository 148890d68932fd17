"""Issue 18 item 6: what counts as PostgreSQL being unavailable (the consumer pauses, no attempt spent) and what is
a handler's own failure (retried, then dead-lettered)."""
from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from metro.db import unavailable


def wrapped(error: Exception, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises it: a DBAPIError around the driver's error."""
    outer = sa_exc.DBAPIError.instance("SELECT 1", None, error, Exception, connection_invalidated=invalidated)
    outer.__cause__ = error
    return outer


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "Connect call failed"),
    ConnectionResetError(),
    TimeoutError(),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.InterfaceError("connection is closed"),
    wrapped(asyncpg.CannotConnectNowError("the database system is shutting down")),
    wrapped(ValueError("lost"), invalidated=True),
    sa_exc.TimeoutError("QueuePool limit of size 3 overflow 3 reached"),
])
def test_outages_are_recognised(error):
    assert unavailable(error)


def test_an_error_raised_while_handling_an_outage_is_still_one():
    try:
        try:
            raise asyncpg.CannotConnectNowError("starting up")
        except asyncpg.PostgresError:
            raise RuntimeError("handler gave up")
    except RuntimeError as exc:
        assert unavailable(exc)


@pytest.mark.parametrize("error", [
    ValueError("a bug"),
    KeyError("x"),
    asyncpg.UniqueViolationError("duplicate key"),
    wrapped(asyncpg.UndefinedColumnError("column does not exist")),
    sa_exc.IntegrityError("INSERT", None, Exception("violates check constraint")),
    asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
])
def test_a_handlers_own_failures_are_not_outages(error):
    assert not unavailable(error)
