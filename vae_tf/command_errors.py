"""How a ``vae-tf`` command reports the user's mistakes: one line on stderr and exit code 2.

A mistake is a bad argument (argparse, through :class:`OneLineArgumentParser`),
a :class:`~vae_tf.errors.UserInputError`, a ``ValueError`` raised by the
package's input checks (:mod:`vae_tf.validation`), or a file Keras cannot load
(:func:`reading_model_file`). Any other exception is a bug: it keeps its traceback.
"""

import argparse
import contextlib
import zipfile

from vae_tf.errors import UserInputError

#: Exit code for a usage error, as argparse uses.
USAGE_ERROR = 2

#: Modules whose ``ValueError`` describes the user's input, not a bug.
INPUT_CHECK_MODULES = ("vae_tf.validation",)


def one_line(text):
    return " ".join(str(text).split())


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose error is one line, ``prog: error: message``, and exit code 2.

    (argparse's own prints the whole usage first.) Subparsers inherit the class.
    """

    def error(self, message):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {one_line(message)}\n")


def _raised_in(error, modules):
    tb = error.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    return last is not None and last.tb_frame.f_globals.get("__name__") in modules


def one_line_message(error):
    """The one-line message for a user's mistake, or ``None`` for anything else (a bug)."""
    if isinstance(error, UserInputError):
        return one_line(error)
    if isinstance(error, ValueError) and _raised_in(error, INPUT_CHECK_MODULES):
        return one_line(error)
    return None


@contextlib.contextmanager
def reading_model_file(path):
    """Turns Keras' failure to load ``path`` into a :class:`UserInputError` naming the file.

    (Keras 3.15 says "File not found" for a truncated file that exists.)
    """
    try:
        yield
    except (ValueError, TypeError, KeyError, OSError, zipfile.BadZipFile) as error:
        raise UserInputError(f"cannot load {path!r} as a vae_tf model: {one_line(error)[:300]}") from error

