"""Engines, sessions and migrations for the case store."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from backend.settings import Settings, normalize_database_url

log = logging.getLogger("xinfang.store")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
ALEMBIC_INI = MIGRATIONS_DIR.parent / "alembic.ini"
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: key of the keyed-hash pepper in ``Session.info``
PEPPER_KEY = "pepper"


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine for *database_url*; SQLite gets WAL, foreign keys and write locks up front.

    SQLite transactions start with ``BEGIN IMMEDIATE`` so that two workers
    wait for each other instead of failing on a lock upgrade.
    """
    url = make_url(normalize_database_url(database_url))
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)

    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(settings: Settings, *, engine: Engine | None = None) -> sessionmaker[Session]:
    """A session factory whose sessions carry the keyed-hash pepper."""
    engine = engine or make_engine(settings.database_url)
    return sessionmaker(engine, expire_on_commit=False, info={PEPPER_KEY: settings.secret()})


def ping(session_factory: sessionmaker[Session]) -> bool:
    """True when the database answers a trivial query."""
    try:
        with session_factory() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - readiness only reports
        log.warning("database ping failed", exc_info=True)
        return False


def alembic_config(database_url: str) -> Any:
    """An Alembic config pointing at this package's migrations and *database_url*."""
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = normalize_database_url(database_url)
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade the schema at *database_url* to *revision* (Alembic)."""
    from alembic import command

    url = make_url(normalize_database_url(database_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)
    log.info("database schema at %s", revision)
