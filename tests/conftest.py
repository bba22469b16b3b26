from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("quick", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


#: The evaluators of tests/evaluators.py, by name. That module (and the
#: package behind it) is imported only by the tests that take the fixture.
EVALUATOR_NAMES = ["batch", "incremental", "checkpointed", "sweep", "tuner", "dask", "stream"]


@pytest.fixture(params=EVALUATOR_NAMES)
def evaluator(request):
    """Each way of evaluating windows in turn, as a ``tests.evaluators.Evaluator``."""
    from tests.evaluators import evaluator_named

    return evaluator_named(request.param)
