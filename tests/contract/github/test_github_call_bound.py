"""How long a JIT call can take, computed from the adapter's timeouts and retry policy."""

from __future__ import annotations

from gharts_adapters.github import GitHubSettings, RetryPolicy
from gharts_adapters.github.settings import Timeouts, longest_retried
from gharts_adapters.github.simulator.wiring import app_key_pair


def settings(**changes: object) -> GitHubSettings:
    return GitHubSettings(
        scope="org:acme",
        app_id=1,
        installation_id=2,
        private_key_pem=app_key_pair()[0],
        **changes,  # type: ignore[arg-type]
    )


def test_retries_are_bounded_by_the_attempts_or_by_the_deadline_whichever_ends_first() -> None:
    """Three immediate tries of 3 s: 9 s; four 20 s tries with waits, cut at 60 s: 83 s."""
    immediate = longest_retried(RetryPolicy.immediate(attempts=3), 3.0)
    # Waits 1.5, 2 and 3 s; the deadline lets a last try start up to 60 + 3 s after the first.
    default = longest_retried(RetryPolicy(), 20.0)

    assert (9.0, 83.0) == (immediate, default)


def test_a_jit_call_costs_at_most_two_token_fetches_and_two_tries_per_attempt() -> None:
    """Without its cut: a token fetch of 83 s, attempts of 2 x (83 + 20) s, 60 s deadline: 269 s."""
    uncut = settings(timeouts=Timeouts(jit_call=1000.0))
    tight = settings(
        timeouts=Timeouts(connect=1.0, read=2.0, jit_call=1000.0), retry=RetryPolicy.immediate()
    )

    # tight: a try 3 s, a fetch 3 x 3 = 9 s, an attempt 2 x (9 + 3) = 24 s, three attempts 72 s.
    assert (269.0, 72.0) == (uncut.longest_jit_call, tight.longest_jit_call)


def test_a_jit_call_is_cut_at_its_own_deadline_under_the_grace() -> None:
    """By default the whole call ends within 25 s: under the Go client's 30 s, and the grace."""
    assert 25.0 == settings().longest_jit_call
