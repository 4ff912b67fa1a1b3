"""Case numbers and query codes made by the backend (hotline cases filed over the API).

The same formats as the bot's ``actions/ids.py`` (contract §4, §7), written
again here because the backend never imports the bot side.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from backend.lifecycle import OFFICE_TZ
from backend.security import PBKDF2_SCHEME, normalize_crockford

CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PBKDF2_ITERATIONS = 100_000


def _random_crockford(length: int) -> str:
    return "".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(length))


def new_case_id(at: datetime | None = None) -> str:
    """``XF20261126-7K3P9Q``: the Beijing date and six random Crockford characters."""
    at = (at or datetime.now(OFFICE_TZ)).astimezone(OFFICE_TZ)
    return f"XF{at:%Y%m%d}-{_random_crockford(6)}"


def new_query_code() -> str:
    """Six random Crockford characters, shown once."""
    return _random_crockford(6)


def hash_query_code(code: str, *, iterations: int = PBKDF2_ITERATIONS) -> str:
    """``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``, as the bot stores it."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", normalize_crockford(code).encode(), salt, iterations)
    return f"{PBKDF2_SCHEME}${iterations}${salt.hex()}${digest.hex()}"
