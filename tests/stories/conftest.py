"""Fixtures for conversation stories: a trained model, the running stack, an agent."""
from __future__ import annotations

import logging

import pytest

from bot.paths import latest_model
from tests.support.citizen import Citizen
from tests.support.stack import running_stack


@pytest.fixture(scope="session", autouse=True)
def quiet_rasa():
    """Rasa's debug logs would bury a failing story's own output."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def model_path():
    """The trained model (``make test`` trains it once per data change)."""
    model = latest_model()
    if model is None:
        from bot.cli import train

        model = train()
    return str(model)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """Backend worker + API and the action server, on a temporary var/."""
    with running_stack(tmp_path_factory.mktemp("var")) as running:
        yield running


@pytest.fixture(scope="session")
def backend(stack):
    return stack[0]


@pytest.fixture(scope="session")
def agent(model_path, stack):
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    return Agent.load(model_path, action_endpoint=EndpointConfig(url=stack[1]))


@pytest.fixture
def meet(agent):
    """``meet("李华")`` gives a new citizen in a fresh conversation."""
    return lambda name: Citizen(name=name, agent=agent)
