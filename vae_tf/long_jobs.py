"""Helpers of long jobs: how far they are and, said once, how long the rest will take (the package's one estimate),
in words (durations, counts); Ctrl-C or SIGTERM as one clean stop; the resident memory a stretch of the job peaked at
(``PeakRSS``)."""

import contextlib
import ctypes
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


#: Bytes in a GiB: the unit peak memory is reported in.
GIB = 2.0**30


def proc_status_bytes(field):
    """``VmRSS`` or ``VmHWM`` of this process in bytes, from ``/proc/self/status``; None without it (not Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _max_rss_so_far():
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def current_rss():
    """This process's resident set size in bytes now (None where it cannot be read)."""
    return proc_status_bytes("VmRSS")


def return_freed_memory():
    """Hands the memory that ``free`` keeps for reuse back to the operating system: glibc's ``malloc_trim(0)``.

    TensorFlow's CPU tensors come from ``malloc``; after a large model is gone its freed blocks stay in glibc's
    arenas (one per thread that allocated) and keep counting in RSS, so the next configuration of a comparison
    would start where the last one peaked. Returns True when it ran (glibc), False elsewhere (a no-op).
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True


class PeakRSS:
    """``with PeakRSS() as peak: ...``; then ``peak.bytes``, the resident memory (RSS) the stretch peaked at,
    ``peak.gib`` and ``peak.after_bytes`` (RSS at its end).

    The kernel keeps one high-water mark per process (``VmHWM``); resetting it would also reset what
    ``/usr/bin/time -v`` reports, so the stretch is measured without touching it::

        peak = max(VmRSS sampled every ``interval`` s during the stretch, VmRSS at its end,
                   VmHWM at its end if the stretch raised it)

    exact when the stretch set a new process peak (the case that matters), else a sampled lower bound (a spike
    shorter than ``interval`` that stayed below the earlier peak can be missed). TensorFlow's CPU allocator keeps
    the memory of freed tensors for reuse (a pool that does not shrink), so a TensorFlow peak stays resident and
    sampling sees it. Without ``/proc/self/status`` (not Linux) both numbers are the process's peak so far
    (``resource.getrusage``), or None where that is missing too.
    """

    def __init__(self, interval=0.05):
        self.interval = float(interval)
        self.bytes = self.after_bytes = None
        self._sampled = 0
        self._stop = threading.Event()
        self._thread = None

    def _sample(self):
        while not self._stop.wait(self.interval):
            rss = current_rss()
            if rss is not None:
                self._sampled = max(self._sampled, rss)

    def __enter__(self):
        self._hwm_before = proc_status_bytes("VmHWM")
        if self._hwm_before is not None:
            self._thread = threading.Thread(target=self._sample, name="vae_tf-peak-rss", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._thread is None:
            self.bytes = self.after_bytes = _max_rss_so_far()
            return False
        self._stop.set()
        self._thread.join()
        self.after_bytes = current_rss() or 0
        hwm = proc_status_bytes("VmHWM") or 0
        self.bytes = max(self._sampled, self.after_bytes, hwm if hwm > self._hwm_before else 0)
        return False

    @property
    def gib(self):
        return None if self.bytes is None else self.bytes / GIB
