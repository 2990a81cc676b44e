"""The errors that mean "the user asked for something we cannot do" (the command line prints them without a traceback),
and the checks of scalar arguments (counts, weights, sizes) that raise them up front. Standard library only.
"""

import math
import numbers


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


def check_integer(value, name, minimum=1, maximum=None, expected=None):
    """``value`` as a Python int in ``[minimum, maximum]``; bools and non-integers are refused.

    ``expected`` words the requirement in the message (default "a positive integer" for
    ``minimum = 1``, else "an integer >= minimum").
    """
    if expected is None:
        expected = "a positive integer" if minimum == 1 and maximum is None else (
            f"an integer >= {minimum}" if maximum is None else f"an integer in {minimum}..{maximum}")
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum
            or (maximum is not None and value > maximum)):
        raise InvalidInputError(f"{name} must be {expected}, got {value!r}.")
    return int(value)


def check_positive_int(value, name):
    """``value`` as an int >= 1."""
    return check_integer(value, name)


def check_non_negative_number(value, name, meaning="", positive=False):
    """``value`` as a finite float >= 0 (> 0 with ``positive``; e.g. a KL weight, free bits in nats, minutes);
    ``meaning`` is added to the message."""
    expected = f"a finite number {'>' if positive else '>='} 0{f' ({meaning})' if meaning else ''}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be {expected}, got {value!r}.") from None
    if isinstance(value, bool) or not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise InvalidInputError(f"{name} must be {expected}, got {value!r}.")
    return number


def check_positive_number(value, name, meaning=""):
    """``value`` as a finite float > 0 (e.g. a time budget in minutes)."""
    return check_non_negative_number(value, name, meaning, positive=True)
