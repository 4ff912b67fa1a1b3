"""The structured case of contract §4, built from what the citizen confirmed."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Optional

from actions.ids import hash_query_code, new_case_id, new_query_code, now_beijing
from actions.intake import DECLINED_VALUES
from actions.routing import Routing, classify

SCHEMA_VERSION = 1

#: Rasa input channel name -> the case's channel (contract §4)
CHANNEL_NAMES = {"wechat": "wechat", "webchat": "webchat", "hotline": "hotline"}


def route_for(slots: Mapping[str, Any]) -> Routing:
    """Kind, category and legal route of the matter the slots describe."""
    return classify(
        slots.get("description") or "",
        slots.get("demand") or "",
        slots.get("respondent") or "",
    )


def _stated(value: Optional[str], slot: str) -> Optional[str]:
    """None for a value the citizen declined to give."""
    if value is None or value == DECLINED_VALUES.get(slot):
        return None
    return value


def build_case(
    slots: Mapping[str, Any],
    *,
    input_channel: Optional[str],
    channel_user: str,
    turns: int,
    received_at: Optional[datetime] = None,
    case_id: Optional[str] = None,
    query_code: Optional[str] = None,
    with_query_code: bool = True,
    first_time: bool = True,
    confidence: Optional[Mapping[str, float]] = None,
    needs_review: Optional[list] = None,
    source: Optional[Mapping[str, Any]] = None,
    routing: Optional[Routing] = None,
) -> tuple[dict, str]:
    """A new case (payload, query code in clear) from confirmed slots.

    The query code travels only as a hash; the clear code is returned to be
    shown to the citizen once. The optional keywords serve drafts made
    elsewhere (hotline transcripts): a given case id and query code (both
    deterministic per call), no query code at all (``with_query_code=False``:
    no hash in the payload, ``""`` returned), ``first_time``,
    per-field ``confidence``, ``needs_review``, ``source`` and a routing
    already decided.
    """
    received_at = received_at or now_beijing()
    routing = routing or route_for(slots)
    if with_query_code:
        query_code = query_code or new_query_code()
    else:
        query_code = ""
    channel = CHANNEL_NAMES.get(input_channel or "", "api")
    case = {
        "schema_version": SCHEMA_VERSION,
        "case_id": case_id or new_case_id(received_at),
        "query_code_hash": hash_query_code(query_code) if with_query_code else None,
        "channel": channel,
        "channel_user": channel_user,
        "received_at": received_at.isoformat(timespec="seconds"),
        "petitioner": {
            "name": slots.get("petitioner_name"),
            "phone": slots.get("phone"),
            "id_number": _stated(slots.get("id_number"), "id_number"),
            "address": slots.get("address"),
        },
        "kind": routing.kind,
        "category": routing.category,
        "legal_route": routing.legal_route,
        "route_reason": routing.route_reason,
        "respondent": slots.get("respondent"),
        "occurred": _stated(slots.get("occurred"), "occurred"),
        "location": _stated(slots.get("location"), "location"),
        "description": slots.get("description"),
        "demand": slots.get("demand"),
        "first_time": first_time,
        "prior_case_ids": [],
        "attachments": list(slots.get("attachments") or []),
        "source": dict(source) if source is not None else {"conversation_id": channel_user, "turns": turns},
        "confidence": dict(confidence or {}),
        "needs_review": list(needs_review or []),
    }
    if not with_query_code:
        del case["query_code_hash"]
    return case, query_code
