"""The composition root: everything is built here, from ``Settings``, and nowhere else."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from domain import rendering
from domain.application import ContactProfiles
from profiles.database import ensure_schema, eventsourcing_env, resolve_url
from profiles.render_worker import RenderWorker
from profiles.settings import Settings
from profiles.store import PostgresVault, ProfilesRecorder
from profiles.transcoder import StateMapper, Transcoder
from projections.read_model import PostgresReadModel

log = logging.getLogger(__name__)
STARTUP_LOCK = 0x50524F46  # any constant the processes of one deployment share


class PostgresContactProfiles(ContactProfiles):
    """The application on PostgreSQL, with note pads in the database."""

    name = "profiles"  # tables profiles_events, profiles_tracking

    def __init__(self, env: dict[str, str], render: rendering.Render = rendering.render) -> None:
        # Processes that start together on a new database (the consumers of one group, the
        # roles of the scaled deployment) would race on PostgreSQL's catalog creating the
        # same tables and types ("tuple concurrently updated", duplicate pg_type rows): the
        # application's stores are created one process at a time.
        with _startup_lock(env):
            super().__init__(env, render=render)
        assert isinstance(self.recorder, ProfilesRecorder)
        self.vault = PostgresVault(self.recorder)

    def construct_mapper(self) -> StateMapper:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=StateMapper)

    def construct_transcoder(self) -> Transcoder:
        transcoder = Transcoder()
        self.register_transcodings(transcoder)
        return transcoder


@contextmanager
def _startup_lock(env: dict[str, str]) -> Iterator[None]:
    import psycopg

    with psycopg.connect(host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"], dbname=env["POSTGRES_DBNAME"],
                         user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"], autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (STARTUP_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (STARTUP_LOCK,))


@dataclass
class Container:
    settings: Settings
    database_url: str
    app: ContactProfiles
    env: dict[str, str]
    server: Any = None
    read_model: Any = None  # projections.read_model.PostgresReadModel (the reader.ReadModel contract)
    closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()
        self.app.close()


def tune_garbage_collector() -> None:
    """The aggregate cache keeps up to 500 000 aggregates alive; with CPython's default
    thresholds every few thousand allocations walk them (bench B1: ~30 % of a batch).
    Collect the young generation less often; the objects a batch creates die young."""
    gc.set_threshold(50_000, 20, 100)


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    tune_garbage_collector()
    url, server = resolve_url(settings.database_url, settings.data_dir)
    if settings.db_schema != "public":
        ensure_schema(url, settings.db_schema)
    env = eventsourcing_env(url, settings.db_schema, settings.pool_size)
    renderer = RenderWorker()  # templates render in a bounded child process, started at the first send
    app = PostgresContactProfiles(env, render=renderer)
    read_model = PostgresReadModel(url, settings.db_schema, pool_size=settings.pool_size)
    return Container(settings=settings, database_url=url, app=app, env=env, server=server, read_model=read_model,
                     closers=[renderer.close, read_model.close])
