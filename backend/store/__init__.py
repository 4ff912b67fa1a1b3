"""The case store: tables, sessions, migrations and repository functions."""

from backend.store.db import make_engine, make_sessionmaker, migrate, ping
from backend.store.repository import case_to_dict, flag_overdue, get_case, save_case, transition_case

__all__ = [
    "case_to_dict",
    "flag_overdue",
    "get_case",
    "make_engine",
    "make_sessionmaker",
    "migrate",
    "ping",
    "save_case",
    "transition_case",
]
