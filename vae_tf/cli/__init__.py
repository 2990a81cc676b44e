"""The ``vae-tf`` command line: one module per command, each holding its options and its run function.

Building the parser, ``--help`` and a rejected option import no TensorFlow (the option values
come from :mod:`vae_tf.choices`), so they answer at once; a command's run function imports the
work it needs. A user's mistake (a bad argument, a missing or unreadable file, any
:class:`~vae_tf.errors.UserInputError`) is one line on stderr and exit code 2
(:mod:`vae_tf.cli.command_errors`); TensorFlow's start-up lines are held back unless ``--verbose``
or ``VAE_TF_VERBOSE=1`` (:mod:`vae_tf.tensorflow_startup`).
"""

import argparse
import os
import sys

from vae_tf import tensorflow_startup
from vae_tf.cli.command_errors import INTERRUPTED, OneLineArgumentParser, one_line, one_line_message
from vae_tf.errors import RunInterrupted
from vae_tf.cli.compare_command import add_compare_command
from vae_tf.cli.compression_commands import add_compression_commands
from vae_tf.cli.evaluate_command import add_evaluate_command
from vae_tf.cli.export_command import add_export_command
from vae_tf.cli.train_command import add_train_command

VERBOSE_HELP = (f"also print TensorFlow's start-up messages and warnings, held back by default "
                f"(or set {tensorflow_startup.VERBOSE_ENV}=1 to see them as TensorFlow prints them)")


def build_parser():
    parser = OneLineArgumentParser(
        prog="vae-tf", description="Variational autoencoders with honest likelihoods.",
        epilog=f"A bad argument or file is reported in one line, exit code 2. TensorFlow's start-up messages "
               f"are held back: --verbose or {tensorflow_startup.VERBOSE_ENV}=1 shows them.")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_compare_command(subparsers)
    add_train_command(subparsers)
    add_evaluate_command(subparsers)
    add_export_command(subparsers)
    add_compression_commands(subparsers)
    for command in subparsers.choices.values():
        # SUPPRESS: a subcommand's default must not overwrite `vae-tf --verbose COMMAND`.
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return parser


def main(argv=None):
    """Runs ``vae-tf`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a bad argument already reported in one line
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 0
    if args.verbose:
        # TensorFlow is not loaded yet: let it print its start-up lines as it always does.
        os.environ[tensorflow_startup.VERBOSE_ENV] = "1"
    tensorflow_startup.import_tensorflow_quietly()
    tensorflow_startup.set_absl_verbosity(args.verbose or tensorflow_startup.verbose_from_env())
    try:
        return args.func(args)
    except RunInterrupted as stopped:
        print(f"vae-tf {args.command}: {one_line(stopped)}", file=sys.stderr)
        return INTERRUPTED
    except KeyboardInterrupt:
        print(f"vae-tf {args.command}: interrupted.", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:
        message = one_line_message(error)
        if message is None:
            raise  # a bug: keep the traceback
        print(f"vae-tf {args.command}: error: {message}", file=sys.stderr)
        return 2
