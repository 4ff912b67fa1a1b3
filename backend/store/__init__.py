"""The case store: tables, sessions, migrations and repository functions."""

from backend.store.db import make_engine, make_sessionmaker, migrate, ping
from backend.store.repository import (
    answer_case,
    case_to_dict,
    flag_overdue,
    get_case,
    list_cases,
    save_case,
    supervision_list,
    transition_case,
)

__all__ = [
    "answer_case",
    "case_to_dict",
    "flag_overdue",
    "get_case",
    "list_cases",
    "make_engine",
    "make_sessionmaker",
    "migrate",
    "ping",
    "save_case",
    "supervision_list",
    "transition_case",
]
