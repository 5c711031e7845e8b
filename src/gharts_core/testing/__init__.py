"""In-memory fakes of every port, for anyone's tests.

Each fake passes the same contract suite as the real adapter (``tests/contract/``), so a test
written against a fake says something true about production. Hypothesis strategies live in
:mod:`gharts_core.testing.strategies` (install the ``gharts[testing]`` extra).
"""

from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_github import FakeRunnerPlatform
from gharts_core.testing.fake_identity import FAKE_ISSUER, FakeTokenVerifier
from gharts_core.testing.fake_store import FakeStore

__all__ = ["FAKE_ISSUER", "FakeClock", "FakeRunnerPlatform", "FakeStore", "FakeTokenVerifier"]
