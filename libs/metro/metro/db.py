"""Async engine and sessions. The edge (request or event handler) owns the transaction."""
from __future__ import annotations

import asyncio
import collections
import functools
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import MetaData, Result, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


# SQLSTATEs of a server that cannot take work now, whatever the statement: connection exceptions (class 08),
# shutdown and restart (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), too many
# connections (53300).
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def unavailable(exc: BaseException) -> bool:
    """Whether an error says that PostgreSQL (or the way to it) is unavailable, rather than that a statement or
    the code around it failed: such an error is no one's fault and passes once the server is back. Looks through
    the chain SQLAlchemy and asyncpg build (``orig``, causes and contexts)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        # TimeoutError is asyncpg's connect timeout; sqlalchemy's TimeoutError a pool whose connections hang.
        if isinstance(e, (ConnectionError, TimeoutError, socket.gaierror, sa_exc.TimeoutError,
                          asyncpg.PostgresConnectionError)):
            return True
        state = getattr(e, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_STATES):
            return True
        if isinstance(e, asyncpg.InterfaceError) and "closed" in str(e):
            return True
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]
    return False


async def wait_until_available(engine: AsyncEngine, *, first_delay: float = 0.5, max_delay: float = 5.0) -> int:
    """Probes the server with backoff until it answers; returns how many probes failed."""
    failed, delay = 0, first_delay
    while True:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return failed
        except Exception:  # whatever the probe meets, the server does not take work yet
            failed += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


@functools.cache
def _record_type(keys: tuple[str, ...]) -> type:
    return collections.namedtuple("Record", keys, rename=True)


def named_rows(result: Result) -> list[Any]:
    """A result's rows as named tuples, for loops over many rows (a meter's days): the same attribute access as
    SQLAlchemy's Row, ten times cheaper (Row looks each name up on its class first, about 1.5 µs here)."""
    return list(map(functools.partial(tuple.__new__, _record_type(tuple(result.keys()))), result.all()))


class Database:
    """One pool per process, for two kinds of sessions: ``session()`` (a transaction, committed or rolled back by
    its owner) and ``reader()`` (autocommit: each statement is its own snapshot, with no BEGIN and no COMMIT, for
    the hot read paths whose answer comes from one statement).

    Disconnects are handled optimistically: a connection found dead fails its statement, and SQLAlchemy then
    discards every connection of the pool opened before it. A ping before each checkout (``pool_pre_ping``) was a
    round trip on every request. ``pool_recycle`` renews connections before any idle timeout on the way."""

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int | None = None,
                 application_name: str = "metro", prepared_statements: bool = True):
        self.pool_size = pool_size
        connect_args: dict[str, Any] = {"server_settings": {"application_name": application_name}}
        if not prepared_statements:
            # A pooler in transaction mode without prepared-statement support: nothing cached per connection,
            # and each statement's name unique, so none collides on a server connection another client used.
            connect_args.update(statement_cache_size=0, prepared_statement_cache_size=0,
                                prepared_statement_name_func=lambda: f"__asyncpg_{uuid.uuid4()}__")
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size if max_overflow is None else max_overflow,
            pool_recycle=1800,
            connect_args=connect_args,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.readers = async_sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                                          expire_on_commit=False)

    @classmethod
    def of(cls, settings: Any, application_name: str, *, pool_size: int | None = None) -> Database:
        """The pool a service's settings describe (a command passes its own, smaller, pool size)."""
        return cls(settings.database_url, application_name=application_name,
                   pool_size=settings.db_pool_size if pool_size is None else pool_size,
                   max_overflow=settings.db_pool_overflow if pool_size is None else None,
                   prepared_statements=settings.db_prepared_statements)

    def session(self) -> AsyncSession:
        return self.sessionmaker()

    def reader(self) -> AsyncSession:
        """Statements run outside any transaction: use it only where a read needs no consistent snapshot across
        statements (one statement, or statements that each stand alone)."""
        return self.readers()

    async def warm_up(self, connections: int, reads: Callable[[AsyncSession], Awaitable[Any]] | None = None) -> None:
        """Opens ``connections`` of the pool (at most its size), each running ``reads`` (a service's hot reads)
        once. A new connection costs its first request 10-30 ms here: connecting, preparing the statements, and
        PostgreSQL loading the catalog entries of the partitions in its new backend. Opened at start, that cost is
        not paid by the first bursts of requests."""
        count = min(connections, self.pool_size)
        if count <= 0:
            return
        opened = asyncio.Barrier(count)

        async def one() -> None:
            async with self.reader() as session:
                await session.execute(text("SELECT 1"))
                if reads is not None:
                    await reads(session)
                await opened.wait()  # each keeps its connection until all are open: none warms another's twice

        await asyncio.gather(*(one() for _ in range(count)))

    def pool_use(self) -> tuple[int, int]:
        """Connections checked out now, and how many the pool may open (its size and as many in overflow)."""
        return self.engine.pool.checkedout(), self.pool_size * 2

    async def dispose(self) -> None:
        await self.engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed when the handler returns; use it through ``DbSession``."""
    db: Database = request.app.state.db
    async with db.session() as session:
        async with session.begin():
            yield session


async def get_reader(request: Request) -> AsyncIterator[AsyncSession]:
    """Autocommit reads for the request (``Database.reader``); use it through ``DbReader``."""
    db: Database = request.app.state.db
    async with db.reader() as session:
        yield session


# scope="function": the commit happens before the response leaves. With FastAPI's default the exit of a yield
# dependency runs after the response is sent, so a client could act on an answer (a session cookie, a saved
# dwelling) before it is committed.
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
DbReader = Annotated[AsyncSession, Depends(get_reader, scope="function")]
