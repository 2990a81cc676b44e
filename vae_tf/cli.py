"""The ``vae-tf`` command line.

A user's mistake (a bad argument, a missing or unreadable file) is one line on stderr
and exit code 2 (:mod:`vae_tf.command_errors`); TensorFlow's start-up lines are held
back unless ``--verbose`` or ``VAE_TF_VERBOSE=1`` (:mod:`vae_tf.tensorflow_startup`).
"""

import argparse
import sys

from vae_tf import tensorflow_startup
from vae_tf.argument_types import keras_file, new_directory
from vae_tf.command_errors import OneLineArgumentParser, one_line_message
from vae_tf.compare.command import add_compare_command
from vae_tf.compression.command import add_compression_commands
from vae_tf.errors import UserInputError
from vae_tf.training.commands import add_evaluate_command, add_train_command

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
    _add_export_command(subparsers)
    add_compression_commands(subparsers)
    for command in subparsers.choices.values():
        # SUPPRESS: a subcommand's default must not overwrite `vae-tf --verbose COMMAND`.
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return parser


def _add_export_command(subparsers):
    export = subparsers.add_parser(
        "export", help="write a saved .keras VAE as a SavedModel for TensorFlow Serving",
        description="Write a .keras VAE as a SavedModel with signatures serving_default, encode, decode, "
                    "sample and elbo. For TensorFlow Serving, --out is a version directory: MODEL_BASE_PATH/1.")
    export.add_argument("--model", required=True, type=keras_file, help="a .keras file saved from a vae_tf.VAE")
    export.add_argument("--out", required=True, type=new_directory, help="new directory to write, e.g. models/vae/1")
    export.set_defaults(func=_run_export)


def _run_export(args):
    import keras  # imported here: TensorFlow takes seconds to load and --help should not wait

    import vae_tf
    from vae_tf.command_errors import reading_model_file
    from vae_tf.export import describe_signatures

    with reading_model_file(args.model):
        model = keras.saving.load_model(args.model)
    try:
        path = vae_tf.export_saved_model(model, args.out)
    except (TypeError, FileExistsError) as error:
        raise UserInputError(str(error)) from error
    print(f"SavedModel written to {path} with signatures:")
    for line in describe_signatures(model):
        print("  " + line)
    return 0


def main(argv=None):
    """Runs ``vae-tf`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a bad argument already reported in one line
        return exit_.code if isinstance(exit_.code, int) else 2
    verbose = args.verbose or tensorflow_startup.verbose_from_env()
    if args.verbose:
        tensorflow_startup.replay_startup_output()
    tensorflow_startup.set_absl_verbosity(verbose)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except Exception as error:
        message = one_line_message(error)
        if message is None:
            raise  # a bug: keep the traceback
        print(f"vae-tf {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
