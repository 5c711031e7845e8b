"""An in-process GitHub: the runner endpoints gharts calls, with GitHub's shapes and faults.

Run it standalone with :func:`create_simulator_app`, mount it in another Litestar app with
:func:`mount_simulator`, and drive it through :class:`GitHubSimulator` or the JSON control API
under ``/_simulator``. :mod:`gharts_adapters.github.simulator.wiring` wires an adapter to it.
"""

from gharts_adapters.github.simulator.app import (
    SimulatorApp,
    create_simulator_app,
    mount_simulator,
)
from gharts_adapters.github.simulator.faults import Faults
from gharts_adapters.github.simulator.lifecycle import DEFAULT_SCOPE
from gharts_adapters.github.simulator.state import GitHubSimulator, RecordedRequest
from gharts_adapters.github.simulator.wiring import (
    SIMULATED_API_URL,
    SimulatedGitHub,
    app_key_pair,
    simulated_github,
    wire_simulator,
)

__all__ = [
    "DEFAULT_SCOPE",
    "SIMULATED_API_URL",
    "Faults",
    "GitHubSimulator",
    "RecordedRequest",
    "SimulatedGitHub",
    "SimulatorApp",
    "app_key_pair",
    "create_simulator_app",
    "mount_simulator",
    "simulated_github",
    "wire_simulator",
]
