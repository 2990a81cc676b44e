"""Errors that mean "the user asked for something we cannot do", printed by the CLI without a traceback."""


class UserInputError(Exception):
    """A problem with the command's input (a dataset, a file, a name) that the message explains in full."""


class InvalidInputError(UserInputError, ValueError):
    """Input that fails a check before any work starts (data, arguments, images), with the fix in the message.

    A ``ValueError`` too, so callers that catch ``ValueError`` keep working.
    """


class DatasetUnavailableError(UserInputError):
    """The dataset is neither in a local file nor downloadable (e.g. no network)."""


class BadDatasetFileError(UserInputError, ValueError):
    """A dataset file that cannot be read, or lacks the expected arrays."""


class UnknownConfigError(UserInputError, ValueError):
    """A configuration name that is not in the registry."""


class CompressedFileError(UserInputError, ValueError):
    """A compressed file that is truncated, corrupt, of another format, or written with another model."""


class UnsupportedModelError(UserInputError, TypeError):
    """A model the bits-back codec cannot use (e.g. a continuous likelihood), with the fix in the message."""


class BadImagesError(UserInputError, ValueError):
    """Images that are not integer levels of the model's shape and number of levels."""


class RunInterrupted(Exception):
    """A long run stopped by Ctrl-C or SIGTERM after saving its finished work; the message says what was saved.

    Not a user's mistake (the CLI prints it in one line with exit code 130, as for an interrupt).
    """
