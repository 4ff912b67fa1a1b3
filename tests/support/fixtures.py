"""Session fixtures shared by every suite that talks to the trained assistant.

A conftest imports them by name (``from tests.support.fixtures import stack``).
"""
from __future__ import annotations

import pytest

from tests.support.stack import require_model, running_stack


@pytest.fixture(scope="session")
def model_path() -> str:
    """The trained model (``make test`` trains it once per data change)."""
    return require_model()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """Backend worker + API and the action server, on a temporary var/."""
    with running_stack(tmp_path_factory.mktemp("var")) as running:
        yield running


@pytest.fixture(scope="session")
def backend(stack):
    """The backend API of the running stack, with a handler token."""
    return stack[0]
