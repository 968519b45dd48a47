"""Fixtures shared by the agent's test modules."""

from tests.agent.test_agent_end_to_end import agents  # noqa: F401 - agent subprocesses, killed after the test
from tests.agent.test_agent_loop import make_agent  # noqa: F401 - the in-process agent, also for the push tests
