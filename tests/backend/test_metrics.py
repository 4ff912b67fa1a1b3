"""Monitoring sees how many cases stand where, and never who filed them."""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy.orm import Session, sessionmaker

from backend.store.repository import transition_case


async def test_metrics_count_cases_by_status_and_route_without_personal_data(
    api_client: Any, auth: Callable[[str], dict[str, str]], stored: Callable[..., dict[str, Any]],
    session_factory: sessionmaker[Session],
) -> None:
    stored(petitioner={"name": "李秀英", "phone": "13800138000"})
    accepted = stored()
    stored(legal_route="litigation", route_reason="请向人民法院起诉。")
    with session_factory.begin() as session:
        transition_case(session, accepted["case_id"], "accepted", actor="handler:1")

    response = await api_client.get("/metrics", headers=auth("supervisor"))
    text = await response.text()

    assert response.status == 200
    assert 'xinfang_cases{status="registered",legal_route="petition"} 1' in text
    assert 'xinfang_cases{status="accepted",legal_route="petition"} 1' in text
    assert 'xinfang_cases{status="routed",legal_route="litigation"} 1' in text
    assert "xinfang_queue_pending 0" in text
    assert "李秀英" not in text and "13800138000" not in text and "XF" not in text
