"""Small key/value state shared by every rasa server process (contract §11).

WeChat retries a callback up to three times when it gets no answer in 5 s,
possibly to another process or host. The WeChat channel claims each delivery
here, so that the bot handles it once. The same store keeps a short-lived
passive reply (to answer a retry with it), the last buttons shown to each
citizen, and the API access token and its refresh lock.

With ``XF_REDIS_URL`` the store is Redis (``SET NX EX``); otherwise it is an
SQLite file under ``XF_VAR_DIR`` (``INSERT OR IGNORE`` with an expiry time).
Methods are synchronous and quick; async callers run them in a thread.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Optional, Protocol

logger = logging.getLogger(__name__)

#: how long a delivery stays claimed; WeChat's retries come within ~15 s
DEFAULT_DEDUPE_TTL_S = 600
KEY_PREFIX = "xinfang:"


class SharedStore(Protocol):
    """Expiring string values shared between processes."""

    def claim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        """Sets ``key`` only if it is absent (or expired); True if this call set it."""

    def put(self, key: str, value: str, ttl_s: float) -> None:
        """Sets ``key`` unconditionally."""

    def get(self, key: str) -> Optional[str]:
        """The live value of ``key``, if any."""

    def delete(self, key: str, expected: Optional[str] = None) -> bool:
        """Removes ``key`` (only if it holds ``expected``, when given)."""


class RedisStore:
    """The shared store on Redis (redis-py 4.x or newer)."""

    _COMPARE_AND_DELETE = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
        "else return 0 end"
    )

    def __init__(self, url: str, *, prefix: str = KEY_PREFIX) -> None:
        import redis

        self._redis = redis.Redis.from_url(
            url, socket_timeout=3, socket_connect_timeout=3, decode_responses=True
        )
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return self._prefix + key

    @staticmethod
    def _ms(ttl_s: float) -> int:
        return max(1, int(ttl_s * 1000))

    def claim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        return bool(self._redis.set(self._key(key), value, nx=True, px=self._ms(ttl_s)))

    def put(self, key: str, value: str, ttl_s: float) -> None:
        self._redis.set(self._key(key), value, px=self._ms(ttl_s))

    def get(self, key: str) -> Optional[str]:
        return self._redis.get(self._key(key))

    def delete(self, key: str, expected: Optional[str] = None) -> bool:
        if expected is None:
            return bool(self._redis.delete(self._key(key)))
        return bool(self._redis.eval(self._COMPARE_AND_DELETE, 1, self._key(key), expected))


class SQLiteStore:
    """The shared store in an SQLite file (several processes on one machine)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._operations = 0
        with self._connection() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS shared_kv ("
                " key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL NOT NULL)"
            )

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def _maybe_purge(self, db: sqlite3.Connection, now: float) -> None:
        self._operations += 1
        if self._operations % 500 == 0:
            db.execute("DELETE FROM shared_kv WHERE expires_at <= ?", (now,))

    def claim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        db, now = self._connection(), time.time()
        self._maybe_purge(db, now)
        # Removing only an *expired* holder keeps the claim race-free: a live
        # row is never deleted, so exactly one INSERT can succeed.
        db.execute("DELETE FROM shared_kv WHERE key = ? AND expires_at <= ?", (key, now))
        cursor = db.execute(
            "INSERT OR IGNORE INTO shared_kv (key, value, expires_at) VALUES (?, ?, ?)",
            (key, value, now + ttl_s),
        )
        return cursor.rowcount == 1

    def put(self, key: str, value: str, ttl_s: float) -> None:
        self._connection().execute(
            "INSERT OR REPLACE INTO shared_kv (key, value, expires_at) VALUES (?, ?, ?)",
            (key, value, time.time() + ttl_s),
        )

    def get(self, key: str) -> Optional[str]:
        row = self._connection().execute(
            "SELECT value FROM shared_kv WHERE key = ? AND expires_at > ?", (key, time.time())
        ).fetchone()
        return row[0] if row else None

    def delete(self, key: str, expected: Optional[str] = None) -> bool:
        if expected is None:
            cursor = self._connection().execute("DELETE FROM shared_kv WHERE key = ?", (key,))
        else:
            cursor = self._connection().execute(
                "DELETE FROM shared_kv WHERE key = ? AND value = ?", (key, expected)
            )
        return cursor.rowcount > 0


def _var_dir() -> Path:
    try:
        from bot.paths import var_dir

        return var_dir()
    except ImportError:  # channels/ used without the bot package
        path = Path(os.environ.get("XF_VAR_DIR", "var"))
        path.mkdir(parents=True, exist_ok=True)
        return path


_stores: dict[str, SharedStore] = {}
_stores_lock = threading.Lock()


def shared_store() -> SharedStore:
    """The store this process uses: Redis if ``XF_REDIS_URL`` is set, else SQLite under var/."""
    url = os.environ.get("XF_REDIS_URL", "").strip()
    location = url or str(_var_dir() / "wechat_state.sqlite3")
    with _stores_lock:
        store = _stores.get(location)
        if store is None:
            store = RedisStore(url) if url else SQLiteStore(location)
            _stores[location] = store
        return store


class Deduplicator:
    """Claims WeChat deliveries so that each is handled once across processes."""

    def __init__(self, store: SharedStore, *, ttl_s: float = DEFAULT_DEDUPE_TTL_S) -> None:
        self.store = store
        self.ttl_s = ttl_s

    @staticmethod
    def message_key(account: str, msg_id: int | str) -> str:
        """Key of an ordinary message: its MsgId (unique per official account)."""
        return f"wechat:seen:{account}:msg:{msg_id}"

    @staticmethod
    def event_key(account: str, openid: str, create_time: int | str) -> str:
        """Key of an event, which has no MsgId: FromUserName + CreateTime."""
        return f"wechat:seen:{account}:evt:{openid}:{create_time}"

    def claim(self, key: str) -> bool:
        """True the first time ``key`` is seen within the TTL. If the store
        fails, the delivery is handled (a rare double answer beats a lost message)."""
        try:
            return self.store.claim(key, self.ttl_s)
        except Exception as error:  # noqa: BLE001 - storage outage must not drop messages
            logger.warning("de-duplication store unavailable (%s); handling delivery", type(error).__name__)
            return True
