"""Ctrl-C during a rollout is deferred to the end of the wave under way."""

from __future__ import annotations

import signal

from gpuforge.ops import DeferredInterrupt


def test_ctrl_c_is_noted_not_raised_while_deferred() -> None:
    noted: list[bool] = []
    # Whatever handler was there before comes back (SIG_IGN when started in the background).
    before = signal.getsignal(signal.SIGINT)
    with DeferredInterrupt(lambda: noted.append(True)) as interrupt:
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        assert interrupt.requested
    assert noted == [True]
    assert signal.getsignal(signal.SIGINT) is before
