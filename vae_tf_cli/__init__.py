"""The ``vae-tf`` command line: the package's commands, each module holding its options and its run function.

Why a package of its own: ``import vae_tf`` imports TensorFlow (seconds), as any Keras library does, and Python
runs a package's ``__init__`` before any of its modules. Here the parser is standard library only, so ``--help``
and a rejected option answer at once; a command's run function then imports ``vae_tf``. A user's mistake (a bad
argument, a missing or unreadable file, any :class:`vae_tf.errors.UserInputError`) is one line on stderr and exit
code 2; a run stopped by Ctrl-C or SIGTERM says what it kept, exit code 130.

This is the one place that quiets TensorFlow: around its own import of ``vae_tf`` (:func:`import_vae_tf`) it sets
``TF_CPP_MIN_LOG_LEVEL=2`` unless set, and holds descriptor 2 and the Python warnings, dropping them when the import
succeeds and writing them out when it fails. ``--verbose`` (or ``VAE_TF_VERBOSE=1``) shows everything.
"""

import argparse
import contextlib
import os
import sys
import tempfile
import warnings

from vae_tf_cli.compare import add_compare_command
from vae_tf_cli.compression import add_compression_commands
from vae_tf_cli.train import add_evaluate_command, add_export_command, add_train_command

#: Exit code for a usage error, as argparse uses, and for a run stopped by Ctrl-C or SIGTERM (128 + SIGINT).
USAGE_ERROR, INTERRUPTED = 2, 130
#: Set to 1 (or true/yes/on) to see TensorFlow's start-up lines and log warnings as TensorFlow prints them.
VERBOSE_ENV = "VAE_TF_VERBOSE"
VERBOSE_HELP = (f"also print TensorFlow's start-up messages and warnings, held back by default "
                f"(or set {VERBOSE_ENV}=1 to see them as TensorFlow prints them)")


def one_line(text):
    return " ".join(str(text).split())


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose error is one line, ``prog: error: message``, and exit code 2 (argparse's own
    prints the whole usage first). Subparsers inherit the class."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {one_line(message)}\n")


def build_parser():
    parser = OneLineArgumentParser(
        prog="vae-tf", description="Variational autoencoders with honest likelihoods.",
        epilog=f"A bad argument or file is reported in one line, exit code 2. TensorFlow's start-up messages "
               f"are held back: --verbose or {VERBOSE_ENV}=1 shows them.")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (add_compare_command, add_train_command, add_evaluate_command, add_export_command,
                add_compression_commands):
        add(subparsers)
    for command in subparsers.choices.values():
        # SUPPRESS: a subcommand's default must not overwrite `vae-tf --verbose COMMAND`.
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return parser


def verbose_from_env():
    return os.environ.get(VERBOSE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


@contextlib.contextmanager
def _descriptor_2_held():
    """Points file descriptor 2 at a temporary file; yields a function returning what was written.

    Why the descriptor: TensorFlow's C++ start-up lines (absl's "All log messages before absl::InitializeLog()",
    the oneDNN notice, "Could not find cuda drivers") are written to it before ``TF_CPP_MIN_LOG_LEVEL`` is read.
    """
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


def import_vae_tf(verbose=False):
    """Imports ``vae_tf`` (TensorFlow, Keras, TFP) and lists the devices, quietly unless ``verbose``; returns it.

    Nothing is lost on failure: if the import raises, the held output and warnings are written first.
    """
    if verbose or "tensorflow" in sys.modules:
        import vae_tf
        return vae_tf
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    held = ["", []]
    try:
        with _descriptor_2_held() as written, warnings.catch_warnings(record=True) as caught:
            try:
                import tensorflow as tf
                import vae_tf

                # Device discovery is where cuInit fails on a machine without a GPU.
                tf.config.list_physical_devices()
            finally:
                held[:] = [written(), list(caught)]
    except BaseException:
        text, caught = held
        sys.stderr.write(text if not text or text.endswith("\n") else text + "\n")
        for w in caught:
            sys.stderr.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
        raise
    return vae_tf


def _set_python_log_levels(verbose):
    """absl's and TensorFlow's Python loggers print "WARNING:absl:..." notes (e.g. on SavedModel export)
    and "WARNING:tensorflow:... triggered tf.function retracing" (every new model of ``compare`` traces its
    own step): errors only unless verbose."""
    import logging

    from absl import logging as absl_logging

    logging.getLogger("tensorflow").setLevel(logging.WARNING if verbose else logging.ERROR)
    absl_logging.set_verbosity(absl_logging.WARNING if verbose else absl_logging.ERROR)


def main(argv=None):
    """Runs ``vae-tf`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a bad argument already reported in one line
        return exit_.code if isinstance(exit_.code, int) else USAGE_ERROR
    if args.command is None:
        parser.print_help()
        return 0
    verbose = args.verbose or verbose_from_env()
    vae_tf = import_vae_tf(verbose)
    _set_python_log_levels(verbose)
    try:
        return args.func(args)
    except vae_tf.errors.RunInterrupted as stopped:
        print(f"vae-tf {args.command}: {one_line(stopped)}", file=sys.stderr)
        return INTERRUPTED
    except KeyboardInterrupt:
        print(f"vae-tf {args.command}: interrupted.", file=sys.stderr)
        return INTERRUPTED
    except vae_tf.errors.UserInputError as error:
        print(f"vae-tf {args.command}: error: {one_line(error)}", file=sys.stderr)
        return USAGE_ERROR
