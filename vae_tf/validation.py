"""Input checks that turn bad data into a clear :class:`~vae_tf.errors.InvalidInputError` (a ``ValueError``)
instead of a NaN loss.

What a decoder accepts comes from its declared support (:mod:`vae_tf.support`): ``[0, 1]`` for all but
the real line, and the grid ``k / (L - 1)`` for a decoder over ``L`` levels (the one grid check of
:mod:`vae_tf.data.levels`).
"""

import numpy as np
import tensorflow as tf

from vae_tf.errors import InvalidInputError, check_non_negative_number
from vae_tf.data.levels import GRID_TOLERANCE, fewest_levels, level_offsets


def check_beta(beta):
    """The KL weight as a finite float >= 0."""
    return check_non_negative_number(beta, "beta")


def _support(likelihood):
    """The likelihood's declared :class:`~vae_tf.support.Support`, or None (no likelihood, or a foreign layer)."""
    return getattr(likelihood, "support", None)


def check_levels(arr, likelihood, name="Data"):
    """Pixels of a discretized decoder with ``num_levels = L`` must be on the grid ``k / (L - 1)``.

    Raises ``InvalidInputError`` for any value with ``|x (L - 1) - round(x (L - 1))| > GRID_TOLERANCE``,
    e.g. dequantized ``(k + u) / L`` data, or digits ``k / 16`` given to a 256-level
    decoder; the message says what to pass instead. Does nothing for other decoders.
    """
    support = _support(likelihood)
    if support is None or not support.on_grid or arr.size == 0:
        return
    levels = support.num_levels
    scaled, offsets = level_offsets(arr, levels)
    off = offsets > GRID_TOLERANCE
    if not off.any():
        return
    bad = tuple(int(i) for i in np.argwhere(off)[0])
    fits = fewest_levels(arr.reshape(-1)[:100000])
    if fits is not None:
        hint = f"these data look like {fits} grey levels k / {fits - 1}: build the decoder with num_levels={fits}"
    else:
        hint = (f"pass the integer image as k / {levels - 1} (e.g. uint8 pixels: x.astype('float32') / 255 with "
                f"num_levels=256), not dequantized (k + u) / L data, which are for continuous decoders such as "
                f"IndependentNormal")
    raise InvalidInputError(
        f"A {type(likelihood).__name__} decoder with num_levels={levels} models pixels k / {levels - 1}, "
        f"k = 0..{levels - 1}; {name} has {arr[bad]:g} at index {bad}, i.e. {scaled[bad]:.4g} / {levels - 1}, "
        f"off that grid ({int(off.sum())} values are): {hint}."
    )


def check_sample_weight(sample_weight, num_examples, name="sample_weight"):
    """Sample weights must be one finite number >= 0 per example; returns them as float32.

    A NaN weight makes the loss NaN and a negative one makes training ascend
    the loss, so both raise ``ValueError``.
    """
    w = sample_weight.numpy() if tf.is_tensor(sample_weight) else np.asarray(sample_weight)
    if not (np.issubdtype(w.dtype, np.number) or w.dtype == bool):
        raise InvalidInputError(f"{name} must be numeric, got dtype {w.dtype}.")
    w = w.astype(np.float32)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim != 1 or len(w) != num_examples:
        raise InvalidInputError(
            f"{name} has shape {w.shape}; need one weight per example, i.e. shape ({num_examples},)."
        )
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise InvalidInputError(f"{name} must be finite and >= 0; {name}[{bad[0]}] = {w[bad[0]]}.")
    return w


def check_images(x, likelihood=None, name="Data"):
    """Checks a batch of examples and returns it as a float32 NumPy array.

    Raises ``ValueError`` for: no data (``None``) or non-numeric data; an
    empty batch; a shape that does not match the likelihood's event shape; NaN
    or Inf values; integer pixels above 1 (0..255 images that were not scaled
    to [0, 1]); values outside [0, 1] for a Bernoulli, continuous Bernoulli or
    discretized decoder; values off the grid ``k / (L - 1)`` of a discretized
    decoder with ``num_levels = L`` (:func:`check_levels`). ``name`` says which
    input is at fault (e.g. ``"Targets y"``).
    """
    if x is None:
        raise InvalidInputError(f"{name}: got None; pass an array of shape (batch, *event_shape).")
    try:
        arr = x.numpy() if tf.is_tensor(x) else np.asarray(x)
    except ValueError as err:  # ragged nested lists
        raise InvalidInputError(f"{name} cannot be read as one array ({err}); pass an array of shape (batch, *event_shape).") from None
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InvalidInputError(f"{name} must be numeric pixels in [0, 1]; got dtype {arr.dtype}.")
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise InvalidInputError(f"Empty batch: {name} has shape {arr.shape}; need at least one example.")
    event_shape = tuple(getattr(likelihood, "event_shape", ()) or ())
    if event_shape and tuple(arr.shape[1:]) != event_shape:
        raise InvalidInputError(
            f"{name} has shape {arr.shape}, i.e. examples of shape {arr.shape[1:]}, but the model's "
            f"likelihood is over event_shape {event_shape}; reshape to (batch, {', '.join(map(str, event_shape))})."
        )
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        if arr.size and arr.max() > 1:
            raise InvalidInputError(
                f"{name} are integers of dtype {arr.dtype} with values up to {arr.max()}: the model expects "
                f"pixels in [0, 1]; divide by 255 (e.g. x.astype('float32') / 255)."
            )
        arr = arr.astype(np.float32)
    arr = arr.astype(np.float32, copy=False)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InvalidInputError(f"{name} contain NaN or Inf: the first is {arr[tuple(bad)]} at index {tuple(int(i) for i in bad)}.")
    support = _support(likelihood)
    if support is not None and support.within_unit_interval:
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0 or hi > 1:
            hint = " (0..255 pixels? divide by 255)" if hi > 1 else ""
            raise InvalidInputError(
                f"A {type(likelihood).__name__} decoder needs pixels in [0, 1]; {name} span [{lo:g}, {hi:g}]{hint}."
            )
    check_levels(arr, likelihood, name)
    return arr
