"""How long a long job will take, said once, before most of it runs. Standard library only.

The first pieces of TensorFlow work include tracing and compiling, so the estimate is taken on the
pieces after them: ``remaining = (seconds per unit after the warm-up) x (units left)``.
"""

import sys
import time


def format_duration(seconds):
    """``"40 s"``, ``"12 min"``, ``"1.5 h"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _say_beside_a_progress_bar(text):
    # A progress bar redraws its own line on a terminal: start a fresh line so the two do not mix.
    print(("\n" if sys.stdout.isatty() else "") + text, flush=True)


class RemainingTime:
    """Say once how long ``what`` will still take: call :meth:`done` after each piece of ``total`` units.

    After the ``warmup`` first pieces (their time is left out: they compile) and one more, it prints
    ``"<what>: about 12 min more (from the speed of the first 200 of 10000 images)"`` when that is
    at least ``min_seconds``; short jobs say nothing.
    """

    def __init__(self, total, what, unit="images", warmup=1, min_seconds=20.0, say=None):
        self.total, self.what, self.unit = int(total), what, unit
        self.warmup, self.min_seconds = int(warmup), float(min_seconds)
        self.say = say or _say_beside_a_progress_bar
        self.pieces = self.units = 0
        self.start = None
        self.said = None

    def done(self, units):
        """Records a finished piece of ``units``; returns the estimate in seconds once it is said, else None."""
        self.pieces += 1
        self.units += int(units)
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
