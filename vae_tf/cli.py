"""The ``vae-tf`` command line."""

import argparse
import sys

from vae_tf.compare.command import add_compare_command
from vae_tf.errors import UserInputError
from vae_tf.training.commands import add_evaluate_command, add_train_command


def build_parser():
    parser = argparse.ArgumentParser(prog="vae-tf", description="Variational autoencoders with honest likelihoods.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_compare_command(subparsers)
    add_train_command(subparsers)
    add_evaluate_command(subparsers)
    return parser


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
