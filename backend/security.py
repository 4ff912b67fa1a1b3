"""Hashes the backend keeps instead of secrets: API tokens, query codes, identifiers."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_PREFIX = "xf_"
PBKDF2_SCHEME = "pbkdf2_sha256"
#: used to spend the same time on an unknown case as on a wrong code (the bot's count)
_DUMMY_ITERATIONS = 100_000
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_DUMMY_STORED = f"{PBKDF2_SCHEME}${_DUMMY_ITERATIONS}${'00' * 16}${'00' * 32}"


def new_token() -> str:
    """A fresh random API token (shown once, never stored in clear)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of an API token, as stored in ``api_tokens``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_phone(phone: str) -> str:
    """Digits only, without a leading +86 / 0086 country code."""
    digits = re.sub(r"\D", "", phone)
    for cc in ("0086", "86"):
        if digits.startswith(cc) and len(digits) - len(cc) == 11:
            return digits[len(cc) :]
    return digits


def normalize_id_number(id_number: str) -> str:
    """Resident ID number without spaces, check letter upper-cased."""
    return re.sub(r"\s", "", id_number).upper()


def keyed_hash(pepper: bytes, value: str) -> str:
    """HMAC-SHA256 of *value* under *pepper*, for matching without storing twice."""
    return hmac.new(pepper, value.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_query_code(code: str, stored: str | None) -> bool:
    """Check *code* against a ``pbkdf2_sha256$<iterations>$<salt_hex>$<hash_hex>`` string.

    Unknown cases (``stored`` is ``None``) and malformed hashes cost the same
    work and answer ``False``, so timing does not tell whether a case exists.
    """
    parsed = _parse_pbkdf2(stored) if stored else None
    known = parsed is not None
    iterations, salt, expected = parsed or _parse_pbkdf2(_DUMMY_STORED)  # type: ignore[misc]
    candidate = normalize_crockford(code).encode("utf-8")
    derived = hashlib.pbkdf2_hmac("sha256", candidate, salt, iterations, len(expected))
    return hmac.compare_digest(derived, expected) and known


def normalize_crockford(text: str) -> str:
    """As the bot does before hashing: no spaces or dashes, upper case, O→0, I/L→1."""
    return re.sub(r"[\s\-]", "", text).upper().translate(_CROCKFORD_ALIASES)


def normalize_case_id(text: str) -> str:
    """A case number as typed (``xf20261126-7k3p9o``) in canonical form (``XF20261126-7K3P90``)."""
    return re.sub(r"\s", "", text).upper().translate(_CROCKFORD_ALIASES)


def _parse_pbkdf2(stored: str) -> tuple[int, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != PBKDF2_SCHEME:
        return None
    try:
        iterations = int(parts[1])
        salt = bytes.fromhex(parts[2])
        expected = bytes.fromhex(parts[3])
    except ValueError:
        return None
    if not 0 < iterations <= 10_000_000 or not expected:
        return None
    return iterations, salt, expected
