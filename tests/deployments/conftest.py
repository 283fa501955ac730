"""Fixtures of the deployments app's tests only."""

import pytest

from tests.deployments.history import build_history


@pytest.fixture
def history(dev_test_prod, standard_lifecycle):
    """Shop and Search with a known history (see ``build_history``)."""
    return build_history(dev_test_prod, standard_lifecycle)
