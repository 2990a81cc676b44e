"""Checks of scalar arguments (counts, weights, sizes): a clear :class:`~vae_tf.errors.InvalidInputError` up front.

Standard library only. Every "must be a positive integer" in the package comes from here.
"""

import math
import numbers

from vae_tf.errors import InvalidInputError


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


def check_non_negative_number(value, name, meaning=""):
    """``value`` as a finite float >= 0 (e.g. a KL weight, free bits in nats); ``meaning`` is added to the message."""
    expected = f"a finite number >= 0{f' ({meaning})' if meaning else ''}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be {expected}, got {value!r}.") from None
    if not math.isfinite(number) or number < 0:
        raise InvalidInputError(f"{name} must be {expected}, got {value!r}.")
    return number
