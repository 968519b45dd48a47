"""Fixtures shared by the agent's test modules."""

from tests.agent.test_agent_loop import make_agent  # noqa: F401 - the in-process agent, also for the push tests
