"""Alembic environment of the system schema.

Run through :mod:`qorus_core.db.schema` (``schema-tool``), which hands over an open connection
in ``config.attributes["connection"]``, or offline with a dialect name for ``--sql``.
"""

from __future__ import annotations

from alembic import context

from qorus_core.db.tables import metadata

config = context.config


def run_offline() -> None:
    context.configure(
        dialect_name=config.attributes["dialect"],
        target_metadata=metadata,
        literal_binds=True,
        output_buffer=config.attributes.get("output_buffer"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
