"""The backend HTTP API."""

from backend.api.app import create_app, run_api
from backend.api.auth import Role, create_token, revoke_token

__all__ = ["Role", "create_app", "create_token", "revoke_token", "run_api"]
