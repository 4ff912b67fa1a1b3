"""Fixtures for conversation stories: a trained model, the running stack, an agent."""
from __future__ import annotations

import logging

import pytest

from tests.support.citizen import Citizen
from tests.support.fixtures import backend, model_path, stack  # noqa: F401  (shared fixtures)


@pytest.fixture(scope="session", autouse=True)
def quiet_rasa():
    """Rasa's debug logs would bury a failing story's own output."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def agent(model_path, stack):
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    return Agent.load(model_path, action_endpoint=EndpointConfig(url=stack[1]))


@pytest.fixture
def meet(agent):
    """``meet("李华")`` gives a new citizen in a fresh conversation."""
    return lambda name: Citizen(name=name, agent=agent)
