"""Bearer tokens for staff: created once, stored as SHA-256, checked per request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from enum import Enum
from functools import partial, wraps

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.security import hash_token, new_token
from backend.store.models import ApiToken, utcnow


class Role(str, Enum):
    """Who holds a token."""

    #: 承办人: works on cases
    HANDLER = "handler"
    #: 督办/负责人: approves extensions, oversees deadlines
    SUPERVISOR = "supervisor"
    #: 话务员/运维: hotline intake and operations
    OPERATOR = "operator"
    #: the bot side (web chat page, WeChat channel): a service token that sees no personal data
    BOT = "bot"


ALL_ROLES = frozenset(Role)
#: people who work on cases and may read them in full
STAFF_ROLES = frozenset({Role.HANDLER, Role.SUPERVISOR, Role.OPERATOR})
SESSION_FACTORY_KEY: web.AppKey[sessionmaker[Session]] = web.AppKey("session_factory", sessionmaker)
ROLE_KEY = web.RequestKey("role", Role)
#: ``<role>:<token row id>``, recorded as the actor of the events a token makes
ACTOR_KEY = web.RequestKey("actor", str)

UNAUTHORIZED = {"error": "unauthorized", "message": "需要有效的访问令牌。"}
FORBIDDEN = {"error": "forbidden", "message": "当前令牌无权执行此操作。"}

_dumps = partial(json.dumps, ensure_ascii=False)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_token(session: Session, role: Role | str) -> str:
    """Store a new token for *role* and return it in clear (the only time it is seen)."""
    role = Role(role)
    token = new_token()
    session.add(ApiToken(token_hash=hash_token(token), role=role.value))
    session.flush()
    return token


def revoke_token(session: Session, token: str) -> bool:
    """Revoke a token; ``False`` if it was unknown or already revoked."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)


def role_of(session: Session, token: str) -> Role | None:
    """The role of a valid, unrevoked token, else ``None``."""
    found = token_identity(session, token)
    return found[0] if found else None


def token_identity(session: Session, token: str) -> tuple[Role, int] | None:
    """Role and row id of a valid, unrevoked token, else ``None``."""
    row = session.execute(
        select(ApiToken.role, ApiToken.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    try:
        return (Role(row[0]), row[1]) if row else None
    except ValueError:
        return None


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _lookup(factory: sessionmaker[Session], token: str) -> tuple[Role, int] | None:
    with factory() as session:
        return token_identity(session, token)


def require_role(*roles: Role) -> Callable[[Handler], Handler]:
    """Decorate a handler: 401 without a valid token, 403 for a role not in *roles* (default: all).

    The wrapper carries ``allowed_roles`` so that the route table and its
    documentation can be checked against each other.
    """
    allowed = frozenset(roles) or ALL_ROLES

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            token = bearer_token(request)
            factory = request.app[SESSION_FACTORY_KEY]
            found = await asyncio.to_thread(_lookup, factory, token) if token else None
            role = found[0] if found else None
            if found is None or role is None:
                return web.json_response(
                    UNAUTHORIZED, dumps=_dumps, status=401, headers={"WWW-Authenticate": "Bearer"}
                )
            if role not in allowed:
                return web.json_response(FORBIDDEN, dumps=_dumps, status=403)
            request[ROLE_KEY] = role
            request[ACTOR_KEY] = f"{role.value}:{found[1]}"
            return await handler(request)

        wrapper.allowed_roles = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorate
