"""Helpers of long jobs: how far they are and, said once, how long the rest will take (the package's one estimate),
in words (durations, counts); Ctrl-C or SIGTERM as one clean stop."""

import contextlib
import signal
import sys
import threading
import time


def format_duration(seconds):
    """``"0.3 s"``, ``"40 s"``, ``"12 min"``, ``"1.5 h"``."""
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def count_of(n, noun, plural=None):
    """``"1 epoch"``, ``"13 configurations"``: ``n`` and ``noun``, in the plural (``noun + "s"`` unless given)
    unless ``n`` is 1."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _say_beside_a_progress_bar(text):
    # A progress bar redraws its own line on a terminal: start a fresh line so the two do not mix.
    print(("\n" if sys.stdout.isatty() else "") + text, flush=True)


class RemainingTime:
    """Say once how long ``what`` will still take: call :meth:`done` after each piece of ``total`` units.

    After the ``warmup`` first pieces (their time is left out: they compile; 0 when the caller compiled
    beforehand) and one more, it prints ``"<what>: about 12 min more (from the speed of the first 200 of 10000
    images)"`` when that is at least ``min_seconds``; short jobs say nothing. With ``bar`` it also shows Keras'
    progress bar over the ``total`` units.
    """

    def __init__(self, total, what, unit="images", warmup=1, min_seconds=20.0, say=None, bar=False):
        self.total, self.what, self.unit = int(total), what, unit
        self.warmup, self.min_seconds = int(warmup), float(min_seconds)
        self.say = say or _say_beside_a_progress_bar
        self.pieces = self.units = self.units_at_start = 0
        self.start = time.perf_counter() if self.warmup == 0 else None
        self.said = None
        if bar:
            import keras

            self.bar = keras.utils.Progbar(self.total, unit_name=unit.rstrip("s") or unit)
        else:
            self.bar = None

    def done(self, units):
        """Records a finished piece of ``units``; returns the estimate in seconds once it is said, else None."""
        self.pieces += 1
        self.units += int(units)
        if self.bar is not None:
            self.bar.add(int(units))
        if self.pieces == self.warmup:
            self.start, self.units_at_start = time.perf_counter(), self.units
            return None
        if self.said is not None or self.start is None or self.pieces <= self.warmup:
            return None
        measured = self.units - self.units_at_start
        rate = (time.perf_counter() - self.start) / max(1, measured)
        remaining = rate * (self.total - self.units)
        self.said = remaining
        if remaining >= self.min_seconds:
            self.say(f"{self.what}: about {format_duration(remaining)} more (from the speed of the first "
                     f"{self.units} of {self.total} {self.unit})")
        return remaining


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
