"""Case numbers and query codes (contract §4, §7).

A case number reads ``XF20261126-7K3P9Q``: the filing date (Beijing time) and
six random characters of Crockford's base32, which has no I, L, O or U, so a
citizen reading it over the phone cannot confuse 1/I/L or 0/O. A query code is
six more such characters, shown to the citizen once and kept only as a salted
PBKDF2 hash; the backend verifies it with the same format.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta, timezone

CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
QUERY_CODE_LENGTH = 6
PBKDF2_ITERATIONS = 100_000

CASE_ID_PATTERN = re.compile(r"XF\s*-?\s*(\d{8})\s*-?\s*([0-9A-Z]{6})", re.IGNORECASE)
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _random_crockford(length: int) -> str:
    return "".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(length))


def now_beijing() -> datetime:
    """The current time in China Standard Time."""
    return datetime.now(BEIJING)


def new_case_id(at: datetime | None = None) -> str:
    """A fresh case number for a case received at ``at`` (default: now)."""
    at = (at or now_beijing()).astimezone(BEIJING)
    return f"XF{at:%Y%m%d}-{_random_crockford(6)}"


def new_query_code() -> str:
    """A fresh six-character query code."""
    return _random_crockford(QUERY_CODE_LENGTH)


def normalize_crockford(text: str) -> str:
    """Upper-cases and maps the look-alikes O→0, I/L→1; drops spaces and dashes."""
    return re.sub(r"[\s\-]", "", text).upper().translate(_CROCKFORD_ALIASES)


def find_case_id(text: str) -> str | None:
    """The case number written anywhere in ``text``, in canonical form."""
    match = CASE_ID_PATTERN.search(text.upper())
    if not match:
        return None
    suffix = normalize_crockford(match.group(2))
    if any(char not in CROCKFORD_ALPHABET for char in suffix):
        return None
    return f"XF{match.group(1)}-{suffix}"


def find_query_code(text: str) -> str | None:
    """A six-character query code in ``text`` (the case number is ignored)."""
    without_case = CASE_ID_PATTERN.sub(" ", text.upper())
    for token in re.findall(r"(?<![0-9A-Z])[0-9A-Z]{6}(?![0-9A-Z])", without_case):
        code = normalize_crockford(token)
        if all(char in CROCKFORD_ALPHABET for char in code):
            return code
    return None


def hash_query_code(code: str, *, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A salted hash of ``code``: ``pbkdf2_sha256$<iterations>$<salt>$<hash>``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac(
        "sha256", normalize_crockford(code).encode(), salt, iterations
    )
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_query_code(code: str, stored: str) -> bool:
    """Whether ``code`` matches a hash made by :func:`hash_query_code`."""
    try:
        scheme, iterations, salt, expected = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac(
        "sha256", normalize_crockford(code).encode(), bytes.fromhex(salt), int(iterations)
    )
    return hmac.compare_digest(digest.hex(), expected)
