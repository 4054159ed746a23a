"""Releases loaded by oload (``oload -s``; ``GET releases`` later): one row per release file
loaded, one per component it brought (definitions, nested releases, SQL files)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from qorus_core.db.meta import created as _created
from qorus_core.db.meta import metadata
from qorus_core.db.types import ID, Text4000, identity

releases = Table(
    "releases",
    metadata,
    Column("releaseid", ID, identity(), primary_key=True),
    Column("name", String(240), nullable=False),  # the release file's name
    Column("source", Text4000),  # its full path on the loading host
    Column("loaded_by", String(160)),  # OS user of the oload run
    Column("hostname", String(160)),
    _created(),
    Index(None, "name"),
)

release_components = Table(
    "release_components",
    metadata,
    Column("releaseid", ForeignKey("releases.releaseid"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    # workflow, step, service, job, class, queue, event, group, errors, release, sql
    Column("component_type", String(40), nullable=False),
    Column("name", String(240), nullable=False),
    Column("version", String(80)),
    Column("objectid", ID),
    Column("filename", Text4000),
)
