"""Errors that mean "the user asked for something we cannot do", printed by the CLI without a traceback."""


class UserInputError(Exception):
    """A problem with the command's input (a dataset, a file, a name) that the message explains in full."""


class DatasetUnavailableError(UserInputError):
    """The dataset is neither in a local file nor downloadable (e.g. no network)."""


class BadDatasetFileError(UserInputError, ValueError):
    """A dataset file that cannot be read, or lacks the expected arrays."""


class UnknownConfigError(UserInputError, ValueError):
    """A configuration name that is not in the registry."""
