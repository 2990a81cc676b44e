"""Ctrl-C and SIGTERM as one clean stop of a long run. Standard library only.

Inside :func:`stopping_on_signals` both signals raise :class:`KeyboardInterrupt` and are remembered.
The signal is remembered because TensorFlow can deliver the interrupt wrapped in another exception
(a ``SystemError`` from a C++ call that returned while the interrupt was pending): the caller asks
``stop.signal`` rather than the exception's type whether the run was stopped.
"""

import contextlib
import signal
import threading


class StopState:
    """``signal``: the name of the signal that stopped the run (``"SIGINT"``, ``"SIGTERM"``), or None."""

    def __init__(self):
        self.signal = None


@contextlib.contextmanager
def stopping_on_signals():
    """Yields a :class:`StopState`; SIGINT and SIGTERM raise ``KeyboardInterrupt`` inside the block.

    The previous handlers come back on exit. Outside the main thread (where Python cannot set
    handlers) it changes nothing and ``signal`` stays None.
    """
    state = StopState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum, frame):
        state.signal = signal.Signals(signum).name
        raise KeyboardInterrupt(state.signal)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
