"""The case store: a citizen's case is kept once, with its clock, and personal data in one place."""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from backend.lifecycle import CaseStatus, IllegalTransition
from backend.settings import Settings
from backend.store import flag_overdue, get_case, save_case, transition_case
from backend.store import repository
from backend.store.models import Case, CaseEvent, Petitioner

CST = timezone(timedelta(hours=8))
MakeCase = Callable[..., dict[str, Any]]


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_redelivered_case_is_stored_once(session_factory: sessionmaker[Session], make_case: MakeCase) -> None:
    case = make_case()
    with session_factory.begin() as session:
        assert save_case(session, case) is True
    with session_factory.begin() as session:
        assert save_case(session, case) is False
    with session_factory() as session:
        assert count(session, Case) == 1
        assert count(session, CaseEvent) == 1
        assert count(session, Petitioner) == 1


def test_a_duplicate_caught_by_the_unique_case_id_changes_nothing(
    session_factory: sessionmaker[Session], make_case: MakeCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers that both missed each other's row: the database decides."""
    case = make_case()
    with session_factory.begin() as session:
        save_case(session, case)
    real_exists = repository._case_exists
    calls = iter([False])  # the first look misses the row, as in a race
    monkeypatch.setattr(repository, "_case_exists", lambda s, cid: next(calls, None) or real_exists(s, cid))
    with session_factory.begin() as session:
        assert save_case(session, make_case(case_id=case["case_id"], description="另一个版本")) is False
    with session_factory() as session:
        assert count(session, Case) == 1
        assert count(session, Petitioner) == 1
        assert get_case(session, case["case_id"])["description"] == case["description"]


def test_workers_racing_on_one_case_store_it_once(
    session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    case = make_case()
    barrier = threading.Barrier(6)
    results: list[bool] = []

    def save() -> None:
        barrier.wait()
        with session_factory.begin() as session:
            results.append(save_case(session, case))

    threads = [threading.Thread(target=save) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]
    with session_factory() as session:
        assert count(session, Case) == 1


def test_a_new_petition_is_registered_with_its_acceptance_deadline(
    session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    case = make_case(received_at="2026-01-25T20:00:00+08:00")
    with session_factory.begin() as session:
        save_case(session, case)
    with session_factory() as session:
        stored = get_case(session, case["case_id"])
    assert stored["status"] == "registered"
    assert stored["deadlines"]["current"] == "acceptance_due"
    assert stored["deadlines"]["items"]["acceptance_due"]["due"] == "2026-02-09"
    assert stored["events"][0]["to_status"] == "registered"
    assert stored["events"][0]["actor"] == "system:intake"
    assert stored["received_at"] == "2026-01-25T20:00:00+08:00"
    assert stored["attachments"] == [{"kind": "image", "ref": "media-1"}]
    assert stored["petitioner"]["name"] == "李秀英"


def test_a_matter_for_the_courts_is_routed_at_once_with_the_reason(
    session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    reason = "该事项属于民事纠纷，可以依法向人民法院提起诉讼。"
    case = make_case(legal_route="litigation", route_reason=reason)
    with session_factory.begin() as session:
        save_case(session, case)
    with session_factory() as session:
        stored = get_case(session, case["case_id"])
    assert stored["status"] == "routed"
    assert [(e["from_status"], e["to_status"]) for e in stored["events"]] == [
        (None, "registered"), ("registered", "routed")
    ]
    assert stored["events"][1]["note"] == reason
    assert stored["deadlines"]["current"] is None


def test_personal_data_lives_only_in_the_petitioners_table(
    session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    case = make_case()
    with session_factory.begin() as session:
        save_case(session, case)
    secrets_ = {"李秀英", "13800138000", "11010519491231002X", "幸福路8号"}
    with session_factory() as session:
        for model in (Case, CaseEvent):
            for row in session.scalars(select(model)):
                values = " ".join(str(getattr(row, a.key)) for a in inspect(model).column_attrs)
                assert not any(s in values for s in secrets_), model.__tablename__
        petitioner = session.scalars(select(Petitioner)).one()
        assert (petitioner.name, petitioner.phone) == ("李秀英", "13800138000")


def test_the_same_phone_written_differently_matches_a_repeat_petition(
    session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    first = make_case(petitioner={"name": "王强", "phone": "138 0013 8000"})
    second = make_case(petitioner={"name": "王强", "phone": "+86 13800138000"})
    other = make_case(petitioner={"name": "赵敏", "phone": "13900139000"})
    with session_factory.begin() as session:
        for case in (first, second, other):
            save_case(session, case)
    with session_factory() as session:
        hashes = session.scalars(select(Petitioner.phone_hash).order_by(Petitioner.id)).all()
    assert hashes[0] == hashes[1] != hashes[2]
    assert "13800138000" not in hashes[0]


def test_a_payload_without_a_receipt_time_is_refused(
    session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    case = make_case()
    del case["received_at"]
    with session_factory.begin() as session, pytest.raises(ValidationError):
        save_case(session, case)


def test_a_clear_query_code_is_never_stored(session_factory: sessionmaker[Session], make_case: MakeCase) -> None:
    case = make_case(query_code="7K3P9Q", query_code_hash="pbkdf2_sha256$1000$00$11")
    with session_factory.begin() as session:
        save_case(session, case)
    with session_factory() as session:
        row = session.scalars(select(Case)).one()
        values = " ".join(str(getattr(row, a.key)) for a in inspect(Case).column_attrs)
    assert "7K3P9Q" not in values
    assert row.query_code_hash == "pbkdf2_sha256$1000$00$11"


def test_a_handler_moves_a_case_through_acceptance_and_an_extension(
    session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    case = make_case()
    with session_factory.begin() as session:
        save_case(session, case)
    accepted_at = datetime(2026, 1, 22, 10, 0, tzinfo=CST)
    with session_factory.begin() as session:
        transition_case(session, case["case_id"], CaseStatus.ACCEPTED, actor="handler:7", at=accepted_at)
        transition_case(session, case["case_id"], "in_progress", actor="handler:7", at=accepted_at)
        stored = transition_case(
            session, case["case_id"], "extended", actor="supervisor:2", note="需会同住建部门调查",
            at=datetime(2026, 3, 1, 10, 0, tzinfo=CST),
        )
    assert stored["status"] == "extended"
    assert stored["deadlines"]["items"]["conclusion_due"]["due"] == (date(2026, 3, 23) + timedelta(30)).isoformat()
    assert [e["to_status"] for e in stored["events"]] == ["registered", "accepted", "in_progress", "extended"]
    assert stored["events"][-1]["note"] == "需会同住建部门调查"


def test_an_illegal_step_leaves_the_case_untouched(
    session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    case = make_case()
    with session_factory.begin() as session:
        save_case(session, case)
    with session_factory.begin() as session, pytest.raises(IllegalTransition):
        transition_case(session, case["case_id"], "concluded", actor="handler:7")
    with session_factory() as session:
        stored = get_case(session, case["case_id"])
    assert stored["status"] == "registered"
    assert len(stored["events"]) == 1


def test_cases_past_their_acceptance_deadline_are_flagged_once(
    session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    late, fresh = make_case(received_at="2026-01-01T09:00:00+08:00"), make_case()
    with session_factory.begin() as session:
        save_case(session, late)
        save_case(session, fresh)
    now = datetime(2026, 1, 20, 12, 0, tzinfo=CST)
    with session_factory.begin() as session:
        assert flag_overdue(session, now) == [late["case_id"]]
    with session_factory.begin() as session:
        assert flag_overdue(session, now + timedelta(days=1)) == []
        stored = get_case(session, late["case_id"])
    assert stored["overdue"] is True
    assert stored["overdue_since"] == now.isoformat()


def test_an_unknown_case_is_none(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        assert get_case(session, "XF20260101-ZZZZZZ") is None


def test_repeat_petitions_still_match_after_a_restart_without_a_configured_key(tmp_path: Path) -> None:
    """With no XF_SECRET_KEY the pepper is generated once, kept private, and reused."""
    first = Settings(_env_file=None, var_dir=tmp_path, secret_key=None)  # type: ignore[call-arg]
    pepper = first.secret()
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = Settings(_env_file=None, var_dir=tmp_path, secret_key=None)  # type: ignore[call-arg]
    assert again.secret() == pepper and len(pepper) >= 32


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://xf@db:5432/xinfang", "postgresql+psycopg://xf@db:5432/xinfang"),
        ("postgres://xf@db/xinfang", "postgresql+psycopg://xf@db/xinfang"),
        ("sqlite:////srv/xf.sqlite3", "sqlite:////srv/xf.sqlite3"),
    ],
)
def test_a_postgresql_url_uses_the_psycopg_driver(given: str, used: str) -> None:
    assert Settings(_env_file=None, database_url=given).sqlalchemy_url == used  # type: ignore[call-arg]


def test_by_default_the_database_is_sqlite_under_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XF_DATABASE_URL", raising=False)
    settings = Settings(_env_file=None, var_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.database_url == f"sqlite:///{tmp_path / 'xinfang.sqlite3'}"
    assert settings.queue_sqlite_path == tmp_path / "queue.sqlite3"
