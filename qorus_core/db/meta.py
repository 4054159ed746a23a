"""The one ``MetaData`` of the system schema and the column helpers every table module uses."""

from __future__ import annotations

from sqlalchemy import Column, MetaData

from qorus_core.db.types import Timestamp

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def created() -> Column[object]:
    return Column("created", Timestamp, nullable=False)


def modified() -> Column[object]:
    return Column("modified", Timestamp, nullable=True)
