"""Backend configuration, read from ``XF_*`` environment variables and ``.env``.

Defaults give the embedded single-machine setup (contract §3, §11): SQLite
under ``var/`` and the embedded queue beside it.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

SECRET_KEY_FILE = "secret.key"
DATABASE_FILE = "xinfang.sqlite3"
QUEUE_FILE = "queue.sqlite3"


class Settings(BaseSettings):
    """Backend settings.

    :param database_url: SQLAlchemy URL; ``postgresql://`` uses psycopg 3.
    :param redis_url: Redis URL for the queue; ``None`` selects the embedded queue.
    :param var_dir: directory for the SQLite files and the generated secret key.
    :param api_host: address the HTTP API listens on.
    :param api_port: port the HTTP API listens on.
    :param queue_prefix: prefix of every queue key (stream, group, dead letters).
    :param secret_key: pepper for keyed hashes of phone and ID numbers; when
        unset a random key is generated once into ``var/secret.key`` (0600).
    """

    model_config = SettingsConfigDict(
        env_prefix="XF_",
        env_file=REPO_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    var_dir: Path = REPO_ROOT / "var"
    database_url: str = ""
    redis_url: str | None = None
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    queue_prefix: str = "xf"
    queue_visibility_timeout_s: float = 30.0
    queue_max_attempts: int = 5
    secret_key: SecretStr | None = None
    #: failed progress queries allowed per case number within the window
    progress_failures_per_case: int = 5
    #: failed progress queries allowed per client address within the window
    progress_failures_per_client: int = 20
    progress_failure_window_s: float = 900.0
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / DATABASE_FILE}"
        if self.redis_url == "":
            self.redis_url = None
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the driver SQLAlchemy should use."""
        return normalize_database_url(self.database_url)

    @property
    def queue_sqlite_path(self) -> Path:
        """Where the embedded queue keeps its SQLite file."""
        return self.var_dir / QUEUE_FILE

    def secret(self) -> bytes:
        """The pepper for keyed hashes (``XF_SECRET_KEY`` or ``var/secret.key``)."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode("utf-8")
        return load_or_create_secret(self.var_dir / SECRET_KEY_FILE)


def normalize_database_url(url: str) -> str:
    """Map ``postgres://`` and ``postgresql://`` to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_or_create_secret(path: Path) -> bytes:
    """Read the key at *path*, creating it (mode 0600) if it does not exist yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race; read its key below
            pass
        else:
            key = secrets.token_hex(32).encode("ascii")
            with os.fdopen(fd, "wb") as fh:
                fh.write(key + b"\n")
            return key
    for _ in range(100):  # a racing creator may not have written it yet
        key = path.read_bytes().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; remove it or set XF_SECRET_KEY")
