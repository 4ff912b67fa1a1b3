"""Staff, bot and citizen endpoints beyond health and progress.

Who may do what (``require_role``; 401 without a valid token, 403 for another role):

==========================================  =====================================
endpoint                                    roles
==========================================  =====================================
GET  /api/v1/whoami                         handler, supervisor, operator, bot
GET  /api/v1/cases                          handler, supervisor, operator
POST /api/v1/cases  (hotline case)          operator, supervisor
GET  /api/v1/cases/{id}                     handler, supervisor, operator
POST /api/v1/cases/{id}/transitions         handler, supervisor (``extended``: supervisor only,
                                            the organ's head approves an extension, 第34条)
POST /api/v1/cases/{id}/opinion             handler, supervisor
GET  /api/v1/supervision                    supervisor
GET  /api/v1/dead-letters                   supervisor, operator (operations)
GET  /api/v1/notifications                  bot
GET  /api/v1/progress/by-channel-user       bot
==========================================  =====================================

The ``bot`` role is a service token for the bot side: it sees progress
views and notification texts, never personal data or a whole case.
Citizens' endpoints (``POST /api/v1/progress/evaluation`` and
``/review-request``) are public, guarded by case number + query code and
the same failure limiter as ``GET /api/v1/progress``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from backend import lifecycle
from backend.api.auth import ACTOR_KEY, ROLE_KEY, SESSION_FACTORY_KEY, STAFF_ROLES, Role, require_role
from backend.api.common import (
    LIMITER_KEY,
    NOT_FOUND,
    PROGRESS_BAD_REQUEST,
    PROGRESS_NOT_FOUND,
    QUEUE_KEY,
    SETTINGS_KEY,
    TOO_MANY_ATTEMPTS,
    json_response,
)
from backend.lifecycle import CaseStatus, IllegalTransition, Opinion
from backend.security import normalize_case_id, verify_query_code
from backend.store import outbox, repository
from backend.store.models import Case, utcnow

log = logging.getLogger("xinfang.api")

T = TypeVar("T")

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

BAD_JSON = {"error": "bad_request", "message": "请求体应为 JSON 对象。"}
OPINION_NEEDED = "{target}须同时记录处理意见：支持、解释说明或不予支持（《信访工作条例》第三十二条）。"
UNKNOWN_OPINION = "处理意见应为支持、解释说明或不予支持。"
UNKNOWN_STATUS = "未知的目标状态：{value}。"
EXTENSION_BY_SUPERVISOR = "延长办理期限须经负责人批准（《信访工作条例》第三十四条），请使用负责人令牌。"
BAD_FILTER = "查询参数 {name} 不正确。"
ONLY_PAGE_CHANNELS = "只有网页渠道（webchat）的通知由页面拉取。"
CHANNEL_AND_USER = "请提供 channel 和 user。"
HOTLINE_CHANNELS = frozenset({"hotline", "api"})
HOTLINE_CHANNEL_ONLY = "经接口登记的信访事项渠道只能是 hotline 或 api。"
#: Chinese names of the opinions, accepted as input too
OPINION_INPUT = {**{o.value: o for o in Opinion}, **{o.label: o for o in Opinion}, "予以支持": Opinion.SUPPORT}


def _error(status: int, error: str, message: str) -> web.Response:
    return json_response({"error": error, "message": message}, status=status)


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


async def _db(request: web.Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(fn, request.app[SESSION_FACTORY_KEY], *args, **kwargs)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


# -- who am I ------------------------------------------------------------------------------

@require_role()
async def whoami(request: web.Request) -> web.Response:
    """The role of the presented token (the hotline tool checks an operator's token with it)."""
    return json_response({"role": request[ROLE_KEY].value})


# -- cases -----------------------------------------------------------------------------------

def encode_cursor(after_id: int) -> str:
    """An opaque continuation token."""
    return base64.urlsafe_b64encode(f"id:{after_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor continues after; ``ValueError`` when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(cursor) from exc
    if not text.startswith("id:"):
        raise ValueError(cursor)
    return int(text[3:])


def _list(factory: sessionmaker[Session], **filters: Any) -> tuple[list[dict[str, Any]], int | None]:
    with factory() as session:
        return repository.list_cases(session, **filters)


@require_role(*STAFF_ROLES)
async def list_cases(request: web.Request) -> web.Response:
    """Cases newest first, filtered by status, legal_route, category, overdue; masked contact details."""
    q = request.query
    filters: dict[str, Any] = {}
    try:
        if q.get("status"):
            statuses = [CaseStatus(s.strip()).value for s in q["status"].split(",") if s.strip()]
            filters["statuses"] = statuses
        if q.get("overdue"):
            if q["overdue"] not in ("true", "false"):
                raise ValueError("overdue")
            filters["overdue"] = q["overdue"] == "true"
        limit = int(q.get("limit", DEFAULT_LIMIT))
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError("limit")
        filters["limit"] = limit
        if q.get("cursor"):
            filters["after_id"] = decode_cursor(q["cursor"])
    except ValueError as exc:
        name = str(exc) if str(exc) in ("overdue", "limit") else ("cursor" if "cursor" in q else "status")
        return _error(400, "bad_request", BAD_FILTER.format(name=name))
    for name in ("legal_route", "category"):
        if q.get(name):
            filters[name] = q[name]
    rows, after = await _db(request, _list, **filters)
    return json_response({"cases": rows, "next_cursor": encode_cursor(after) if after else None})


def _load_case(factory: sessionmaker[Session], case_id: str) -> dict[str, Any] | None:
    with factory() as session:
        row = repository.get_case_row(session, case_id)
        return repository.case_to_dict(row) if row else None


@require_role(*STAFF_ROLES)
async def get_case(request: web.Request) -> web.Response:
    """A case with petitioner, events and deadlines."""
    case = await _db(request, _load_case, request.match_info["case_id"])
    if case is None:
        return json_response(NOT_FOUND, status=404)
    return json_response(case)


def _opinion(value: Any) -> Opinion | None:
    return OPINION_INPUT.get(value.strip()) if isinstance(value, str) else None


def _in_transaction(factory: sessionmaker[Session], change: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with factory.begin() as session:
        return change(session, *args, **kwargs)


async def _change_case(request: web.Request, change: Callable[..., dict[str, Any]], *args: Any,
                       **kwargs: Any) -> web.Response:
    """Apply a repository change to the URL's case; 404 unknown, 409 refused by the procedure."""
    try:
        case = await _db(request, _in_transaction, change, request.match_info["case_id"], *args,
                         actor=request[ACTOR_KEY], **kwargs)
    except LookupError:
        return json_response(NOT_FOUND, status=404)
    except IllegalTransition as exc:
        return _error(409, "illegal_transition", str(exc))
    return json_response(case)


@require_role(Role.HANDLER, Role.SUPERVISOR)
async def post_transition(request: web.Request) -> web.Response:
    """Move a case: ``{to, note?, reason?, opinion?}``; refused with the procedure's reason (409)."""
    body = await _json_body(request)
    if body is None:
        return json_response(BAD_JSON, status=400)
    try:
        target = CaseStatus(str(body.get("to", "")))
    except ValueError:
        return _error(422, "invalid", UNKNOWN_STATUS.format(value=body.get("to")))
    if target is CaseStatus.EXTENDED and request[ROLE_KEY] is not Role.SUPERVISOR:
        return _error(403, "forbidden", EXTENSION_BY_SUPERVISOR)
    opinion = None
    if target in lifecycle.ANSWERING_STATUSES:
        opinion = _opinion(body.get("opinion"))
        if opinion is None:
            message = OPINION_NEEDED.format(target=target.label) if body.get("opinion") is None else UNKNOWN_OPINION
            return _error(422, "opinion_required", message)
    reason, note = _text(body.get("reason")), _text(body.get("note"))
    # an extension's reason is what the citizen is told (第34条)
    text = "；".join(t for t in (reason, note) if t) or None
    return await _change_case(request, repository.transition_case, target, note=text, opinion=opinion)


@require_role(Role.HANDLER, Role.SUPERVISOR)
async def post_opinion(request: web.Request) -> web.Response:
    """Record the 处理/复查/复核意见 ``{opinion, note?}``; concludes the step the case awaits."""
    body = await _json_body(request)
    if body is None:
        return json_response(BAD_JSON, status=400)
    opinion = _opinion(body.get("opinion"))
    if opinion is None:
        return _error(422, "invalid", UNKNOWN_OPINION)
    return await _change_case(request, repository.answer_case, opinion, note=_text(body.get("note")))


@require_role(Role.OPERATOR, Role.SUPERVISOR)
async def post_case(request: web.Request) -> web.Response:
    """File a case drafted from a hotline call (contract §4 payload) through the queue; 202.

    A missing ``case_id`` is made here; without ``query_code_hash`` a query
    code is made and returned once, for the operator to read to the caller.
    """
    from backend.queue.base import encode_case
    from backend.api.ids import hash_query_code, new_case_id, new_query_code

    body = await _json_body(request)
    if body is None:
        return json_response(BAD_JSON, status=400)
    body.setdefault("channel", "hotline")
    if body["channel"] not in HOTLINE_CHANNELS:
        return _error(422, "invalid", HOTLINE_CHANNEL_ONLY)
    body.setdefault("received_at", datetime.now(lifecycle.OFFICE_TZ).isoformat())
    body.setdefault("case_id", new_case_id())
    query_code = None
    if not body.get("query_code_hash") and "query_code" not in body:
        query_code = new_query_code()
        body["query_code_hash"] = await asyncio.to_thread(hash_query_code, query_code)
    try:
        repository.CaseIn.model_validate(body)
        encode_case(body)
    except (ValidationError, ValueError) as exc:
        fields = sorted({".".join(map(str, e["loc"])) for e in exc.errors()}) if isinstance(
            exc, ValidationError) else []
        return json_response({"error": "invalid", "message": "信访事项内容不完整或格式不正确。", "fields": fields},
                             status=422)
    await request.app[QUEUE_KEY].publish(body)
    answer = {"case_id": body["case_id"], "status": "queued"}
    if query_code:
        answer["query_code"] = query_code
    return json_response(answer, status=202)


# -- supervision and operations ---------------------------------------------------------------

def _supervision(factory: sessionmaker[Session], include_resolved: bool) -> list[dict[str, Any]]:
    with factory() as session:
        return repository.supervision_list(session, include_resolved=include_resolved)


@require_role(Role.SUPERVISOR)
async def supervision(request: web.Request) -> web.Response:
    """The supervision list: cases past a deadline (``?all=true`` adds resolved episodes)."""
    items = await _db(request, _supervision, request.query.get("all") == "true")
    return json_response({"items": items})


@require_role(Role.SUPERVISOR, Role.OPERATOR)
async def dead_letters(request: web.Request) -> web.Response:
    """Queue messages that failed too often, with their error, oldest first."""
    try:
        limit = int(request.query.get("limit", 100))
    except ValueError:
        return _error(400, "bad_request", BAD_FILTER.format(name="limit"))
    letters = await request.app[QUEUE_KEY].dead_letters(limit=max(1, min(limit, 1000)))
    return json_response({"dead_letters": letters})


# -- the bot side -----------------------------------------------------------------------------

def _take(factory: sessionmaker[Session], channel: str, user: str) -> list[dict[str, Any]]:
    with factory.begin() as session:
        return outbox.take_for_page(session, channel=channel, user=user)


@require_role(Role.BOT)
async def notifications(request: web.Request) -> web.Response:
    """Notifications waiting for a web chat session; each is handed out once."""
    channel, user = request.query.get("channel", ""), request.query.get("user", "")
    if not channel or not user:
        return _error(400, "bad_request", CHANNEL_AND_USER)
    if channel != "webchat":
        return _error(400, "bad_request", ONLY_PAGE_CHANNELS)
    return json_response({"notifications": await _db(request, _take, channel, user[:128])})


def _by_channel_user(factory: sessionmaker[Session], channel: str, user: str) -> list[dict[str, Any]]:
    with factory() as session:
        return repository.progress_for_channel_user(session, channel, user)


@require_role(Role.BOT)
async def progress_by_channel_user(request: web.Request) -> web.Response:
    """Progress of the cases filed by one WeChat openid (contract §7); no personal data."""
    channel, user = request.query.get("channel", ""), request.query.get("user", "")
    if not channel or not user:
        return _error(400, "bad_request", CHANNEL_AND_USER)
    return json_response({"cases": await _db(request, _by_channel_user, channel, user[:128])})


# -- citizens after an answer -----------------------------------------------------------------

class CitizenGuard:
    """Case number + query code, counted by the same limiter as the progress query."""

    def __init__(self, request: web.Request, body: dict[str, Any]) -> None:
        self.request = request
        self.case_id = normalize_case_id(str(body.get("case_id") or ""))
        self.code = str(body.get("code") or "").strip()
        self.keys = (f"case:{self.case_id}", f"client:{request.remote}")

    def refusal(self) -> web.Response | None:
        """400 without both, 429 after too many failures, else ``None``."""
        if not self.case_id or not self.code or len(self.case_id) > 32 or len(self.code) > 32:
            return json_response(PROGRESS_BAD_REQUEST, status=400)
        settings, limiter = self.request.app[SETTINGS_KEY], self.request.app[LIMITER_KEY]
        if (limiter.count(self.keys[0]) >= settings.progress_failures_per_case
                or limiter.count(self.keys[1]) >= settings.progress_failures_per_client):
            return json_response(TOO_MANY_ATTEMPTS, status=429,
                                 headers={"Retry-After": str(int(settings.progress_failure_window_s))})
        return None

    def failed(self) -> web.Response:
        """Count a wrong code and answer as for an unknown case."""
        for key in self.keys:
            self.request.app[LIMITER_KEY].add(key)
        return json_response(PROGRESS_NOT_FOUND, status=404)


def _verified(session: Session, case_id: str, code: str) -> Case | None:
    row = repository.get_case_row(session, case_id)
    ok = verify_query_code(code, row.query_code_hash if row else None)
    return row if ok and row is not None else None


def _evaluate(factory: sessionmaker[Session], case_id: str, code: str, rating: str,
              comment: str | None) -> dict[str, Any] | None:
    with factory.begin() as session:
        case = _verified(session, case_id, code)
        return repository.record_evaluation(session, case, rating, comment) if case else None


async def post_evaluation(request: web.Request) -> web.Response:
    """A citizen rates the latest answer: ``{case_id, code, rating, comment?}`` (once per answer)."""
    body = await _json_body(request)
    if body is None:
        return json_response(BAD_JSON, status=400)
    guard = CitizenGuard(request, body)
    if (refused := guard.refusal()) is not None:
        return refused
    rating = str(body.get("rating") or "")
    if rating not in lifecycle.RATINGS:
        return _error(422, "invalid", repository.UNKNOWN_RATING)
    comment = _text(body.get("comment"))
    try:
        result = await _db(request, _evaluate, guard.case_id, guard.code, rating, comment and comment[:2000])
    except repository.CitizenRefusal as exc:
        return _error(409, "refused", str(exc))
    if result is None:
        return guard.failed()
    return json_response({**result, "message": "感谢您的评价。"}, status=201)


def _request_instance(factory: sessionmaker[Session], case_id: str, code: str, kind: str,
                      reason: str) -> dict[str, Any] | None:
    with factory.begin() as session:
        case = _verified(session, case_id, code)
        if case is None:
            return None
        return repository.request_next_instance(session, case.case_id, kind, reason, at=utcnow())


async def post_review_request(request: web.Request) -> web.Response:
    """A citizen asks for 复查 or 复核: ``{case_id, code, kind: review|recheck, reason}``.

    Refused (409) with the reason when out of order, after the 30-day window
    (第35/36条), or after 复核 (第36条第3款).
    """
    body = await _json_body(request)
    if body is None:
        return json_response(BAD_JSON, status=400)
    guard = CitizenGuard(request, body)
    if (refused := guard.refusal()) is not None:
        return refused
    kind, reason = str(body.get("kind") or ""), _text(body.get("reason")) or ""
    if kind not in lifecycle.CITIZEN_REQUESTS:
        return _error(422, "invalid", "申请类型应为 review（复查）或 recheck（复核）。")
    try:
        view = await _db(request, _request_instance, guard.case_id, guard.code, kind, reason[:2000])
    except (repository.CitizenRefusal, IllegalTransition) as exc:
        return _error(409, "refused", str(exc))
    if view is None:
        return guard.failed()
    return json_response(view)
