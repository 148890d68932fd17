"""Alembic per service: one schema, one history, its version table inside the schema."""
from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


def alembic_config(package_dir: Path, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(package_dir / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url)
    return cfg


def upgrade(package_dir: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(package_dir, database_url), revision)


async def upgrade_async(package_dir: Path, database_url: str) -> None:
    await asyncio.to_thread(upgrade, package_dir, database_url)


def run_env(target_metadata: sa.MetaData, schema: str) -> None:
    """The body of every service's migrations/env.py."""
    url = context.config.get_main_option("sqlalchemy.url")

    def include_name(name, type_, parent_names):
        return name == schema if type_ == "schema" else True

    def include_object(obj, name, type_, reflected, compare_to):
        # Tables made by hand in migrations (partitions) are not in the metadata: never drop them.
        return not (type_ == "table" and reflected and compare_to is None)

    def do_run(connection) -> None:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        # Replicas starting together: one migrates, the others wait and find nothing to do.
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": f"migrate:{schema}"})
        context.configure(connection=connection, target_metadata=target_metadata,
                          version_table_schema=schema, include_schemas=True, include_name=include_name,
                          include_object=include_object,
                          compare_type=True)
        context.run_migrations()
        connection.commit()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run())
