"""The ``vae-tf`` command line."""

import argparse
import os
import sys

from vae_tf.compare.command import add_compare_command
from vae_tf.compression.command import add_compression_commands
from vae_tf.errors import UserInputError
from vae_tf.training.commands import add_evaluate_command, add_train_command


class _OneLineErrorParser(argparse.ArgumentParser):
    """A bad argument is one line, ``vae-tf train: error: argument --free-bits: ...``, and exit code 2.

    argparse's default prints the whole usage first; subcommand parsers inherit this class.
    """

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    parser = _OneLineErrorParser(prog="vae-tf", description="Variational autoencoders with honest likelihoods.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_compare_command(subparsers)
    add_train_command(subparsers)
    add_evaluate_command(subparsers)
    _add_export_command(subparsers)
    add_compression_commands(subparsers)
    return parser


def _add_export_command(subparsers):
    export = subparsers.add_parser(
        "export", help="write a saved .keras VAE as a SavedModel for TensorFlow Serving",
        description="Write a .keras VAE as a SavedModel with signatures serving_default, encode, decode, "
                    "sample and elbo. For TensorFlow Serving, --out is a version directory: MODEL_BASE_PATH/1.")
    export.add_argument("--model", required=True, help="a .keras file saved from a vae_tf.VAE")
    export.add_argument("--out", required=True, help="new directory to write, e.g. models/vae/1")
    export.set_defaults(func=_run_export)


def _run_export(args):
    if not args.model.endswith(".keras") or not os.path.isfile(args.model):
        sys.exit(f"vae-tf export: --model must be an existing .keras file, got {args.model!r}")
    import keras  # imported here: TensorFlow takes seconds to load and --help should not wait

    import vae_tf
    from vae_tf.export import describe_signatures

    model = keras.saving.load_model(args.model)
    try:
        path = vae_tf.export_saved_model(model, args.out)
    except (TypeError, FileExistsError) as error:
        sys.exit(f"vae-tf export: {error}")
    print(f"SavedModel written to {path} with signatures:")
    for line in describe_signatures(model):
        print("  " + line)
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except UserInputError as err:
        # The message says everything (what failed, how to fix it): no traceback.
        print(f"vae-tf {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
