"""How a ``vae-tf`` command reports the user's mistakes: one line on stderr and exit code 2.

A mistake is a bad argument (argparse, through :class:`OneLineArgumentParser`), or an
exception of type :class:`~vae_tf.errors.UserInputError` wherever it is raised (the input
checks raise its subclass :class:`~vae_tf.errors.InvalidInputError`; a file Keras cannot load
becomes one in :func:`reading_model_file`). Any other exception is a bug: it keeps its traceback.
"""

import argparse
import contextlib
import zipfile

from vae_tf.errors import UserInputError

#: Exit code for a usage error, as argparse uses.
USAGE_ERROR = 2
#: Exit code for a run stopped by Ctrl-C or SIGTERM (128 + SIGINT, as a shell reports it).
INTERRUPTED = 130


def one_line(text):
    return " ".join(str(text).split())


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose error is one line, ``prog: error: message``, and exit code 2.

    (argparse's own prints the whole usage first.) Subparsers inherit the class.
    """

    def error(self, message):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {one_line(message)}\n")


def one_line_message(error):
    """The one-line message for a user's mistake, or ``None`` for anything else (a bug)."""
    return one_line(error) if isinstance(error, UserInputError) else None


@contextlib.contextmanager
def reading_model_file(path):
    """Turns Keras' failure to load ``path`` into a :class:`UserInputError` naming the file.

    (Keras 3.15 says "File not found" for a truncated file that exists.)
    """
    try:
        yield
    except (ValueError, TypeError, KeyError, OSError, zipfile.BadZipFile) as error:
        raise UserInputError(f"cannot load {path!r} as a vae_tf model: {one_line(error)[:300]}") from error

