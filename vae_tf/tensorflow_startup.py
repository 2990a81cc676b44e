"""TensorFlow's start-up output, held back so that a user's first screen is ours.

Importing TensorFlow 2.21 and finding its devices writes C++ log lines straight to
file descriptor 2 (the oneDNN notice, "Could not find cuda drivers", a failed
``cuInit``, absl's "All log messages before absl::InitializeLog()"): the absl lines
come before TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL``, so only redirecting the
descriptor silences them. :func:`import_tensorflow_quietly` does that for the import
and the device discovery, and so does any later ``import tensorflow`` once
:func:`hold_back_later_tensorflow_start_up` has run (``import vae_tf`` runs it).
``VAE_TF_VERBOSE=1`` (``vae-tf --verbose`` sets it) turns all of this off: TensorFlow then
prints as it always does. Nothing is lost on failure: if the import raises, the held
output (and the Python warnings raised meanwhile) is written first.

Standard library only: it must run before TensorFlow is imported.
"""

import contextlib
import os
import sys
import tempfile
import warnings

from vae_tf.import_hooks import around_first_import

#: Set to 1 (or true/yes/on) to see TensorFlow's start-up lines and log warnings as TensorFlow prints them.
VERBOSE_ENV = "VAE_TF_VERBOSE"



def verbose_from_env():
    return os.environ.get(VERBOSE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


@contextlib.contextmanager
def _descriptor_2_held():
    """Points file descriptor 2 at a temporary file; yields a function returning what was written."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no descriptor 2 (embedded interpreters)
        yield lambda: ""
        return
    with tempfile.TemporaryFile(mode="w+b") as held:
        os.dup2(held.fileno(), 2)
        try:
            yield lambda: (held.seek(0), held.read().decode("utf-8", "replace"))[1]
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow_quietly():
    """Imports TensorFlow (and lists its devices) with its start-up output held back.

    Does nothing special when TensorFlow is already imported or ``VAE_TF_VERBOSE`` is set.
    ``TF_CPP_MIN_LOG_LEVEL`` defaults to 2 (C++ errors only) for the rest of the run.
    """
    if "tensorflow" in sys.modules or verbose_from_env():
        return
    with _holding_startup_output():  # (the finder below does not hold again: _holding is set)
        import tensorflow as tf

        # Device discovery is where cuInit fails on a machine without a GPU; it does not
        # create the runtime, so thread and device settings made later still apply.
        tf.config.list_physical_devices()
        import keras  # noqa: F401
        import tensorflow_probability  # noqa: F401


_holding = False


@contextlib.contextmanager
def _holding_startup_output():
    """Holds descriptor 2 and the Python warnings for the block, and drops them when it succeeds.

    Nothing is lost on failure: if the block raises, the held output is written first.
    """
    global _holding
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _holding = True
    held = ["", []]
    try:
        with _descriptor_2_held() as written, warnings.catch_warnings(record=True) as caught:
            try:
                yield
            finally:
                held[:] = [written(), list(caught)]
    except BaseException:
        _write_held(sys.stderr, *held)
        raise
    finally:
        _holding = False


#: Called once TensorFlow has finished loading (see :func:`after_tensorflow_loads`).
_after_load = []
#: True while TensorFlow's module runs (through :func:`_quiet_first_import`; ``sys.modules`` already holds it then).
_tensorflow_loading = False


def after_tensorflow_loads(callback):
    """Calls ``callback()`` once TensorFlow is fully imported: now if it is, else right after its import ends."""
    if "tensorflow" in sys.modules and not _tensorflow_loading:
        callback()
    else:
        _after_load.append(callback)


def _run_after_load():
    while _after_load:
        _after_load.pop(0)()


def _quiet_first_import(execute, module):
    """How a later ``import tensorflow`` runs: quiet as :func:`import_tensorflow_quietly` is (unless it is that
    function importing, or ``VAE_TF_VERBOSE`` is set), then the :func:`after_tensorflow_loads` callbacks."""
    global _tensorflow_loading
    _tensorflow_loading = True
    try:
        if _holding or verbose_from_env():
            execute()
        else:
            with _holding_startup_output():
                execute()
                module.config.list_physical_devices()
    finally:
        _tensorflow_loading = False
    # TensorFlow's module has run to its end, and what it imported meanwhile (keras) is complete.
    _run_after_load()


def hold_back_later_tensorflow_start_up():
    """From now on, the first ``import tensorflow`` (in any module: ``import keras`` too) is quiet.

    ``import vae_tf`` calls it, so a program's TensorFlow start-up lines are held back whatever it
    imports after vae_tf (``VAE_TF_VERBOSE=1`` still shows them). Does nothing once TensorFlow is loaded.
    """
    around_first_import("tensorflow", _quiet_first_import)


def set_absl_verbosity(verbose):
    """absl's and TensorFlow's Python loggers print "WARNING:absl:..." notes (e.g. on SavedModel export)
    and "WARNING:tensorflow:... triggered tf.function retracing" (every new model of `compare` traces its
    own step): errors only unless verbose."""
    import logging

    logging.getLogger("tensorflow").setLevel(logging.WARNING if verbose else logging.ERROR)
    with contextlib.suppress(ImportError):
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.WARNING if verbose else absl_logging.ERROR)


def _write_held(stream, text, caught):
    if text:
        stream.write(text if text.endswith("\n") else text + "\n")
    for w in caught:
        stream.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
    stream.flush()
