"""Ctrl-C during a rollout: noted, never acted on in the middle of a wave.

While the guard is active, SIGINT sets a flag instead of raising KeyboardInterrupt, so the wave
under way (its nodes' package changes, its gate, its rollback) runs to its end; the rollout
looks at the flag between waves and stops there. Ansible runs on a terminal of its own, so the
signal never reaches it directly.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any


class DeferredInterrupt:
    """A context manager that turns SIGINT into a request the caller checks when it may stop."""

    def __init__(self, on_request: Callable[[], None] | None = None) -> None:
        self.requested = False
        self.on_request = on_request
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del signum, frame  # the signal is always SIGINT; where it landed does not matter
        first = not self.requested
        self.requested = True
        if first and self.on_request is not None:
            self.on_request()

    def __enter__(self) -> DeferredInterrupt:
        # Signal handlers can only be set from the main thread; elsewhere Ctrl-C is not ours.
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
