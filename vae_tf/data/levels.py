"""The grid of grey levels k / (L - 1) and what is drawn from it once: the level grid checks, binarization, dequantization."""

import numpy as np

from vae_tf.errors import InvalidInputError, check_integer

#: How training pixels may be binarized (``make_dataset``): not at all, a fresh draw every epoch, one fixed draw.
BINARIZATIONS = (None, "dynamic", "static")

#: How far ``x (L - 1)`` may be from an integer and still count as level ``k`` (float32 ``k / (L - 1)`` is within 1e-4).
GRID_TOLERANCE = 1e-3


def check_num_levels(num_levels, name="num_levels"):
    """``L`` as a Python int >= 2, or :class:`~vae_tf.errors.InvalidInputError`."""
    return check_integer(num_levels, name, minimum=2,
                         expected="an integer >= 2 (the number of grey levels L)")


def level_offsets(x, num_levels):
    """``(x (L - 1), |x (L - 1) - round(x (L - 1))|)``: each value on the level scale, and how far it is off the grid.

    A value is level ``k = round(x (L - 1))`` when its offset is at most :data:`GRID_TOLERANCE`.
    """
    scaled = np.asarray(x, np.float64) * (int(num_levels) - 1)
    return scaled, np.abs(scaled - np.rint(scaled))


def fewest_levels(values, max_levels=256):
    """The smallest ``L' <= max_levels`` whose grid ``k / (L' - 1)`` holds every value, or None."""
    values = np.unique(values)
    for levels in range(2, max_levels + 1):
        if np.all(level_offsets(values, levels)[1] <= GRID_TOLERANCE):
            return levels
    return None


def num_levels_of(x):
    """``L`` for raw pixels: 2 for 0/1 (or bool) images, 256 for other integer images, None for floats."""
    x = np.asarray(x)
    if x.dtype == bool:
        return 2
    if not np.issubdtype(x.dtype, np.integer):
        return None
    return 2 if x.size == 0 or x.max() <= 1 else 256


def to_unit_interval(x):
    """``(N, H, W)`` or ``(N, H, W, C)`` pixels to float32 ``k / (L - 1)`` in [0, 1] with a channel axis.

    Integer pixels are divided by 255 (by 1 when they are already 0/1; values above 255 are an
    error); floats must already lie in [0, 1].
    """
    x = np.asarray(x)
    if x.ndim == 2:
        raise InvalidInputError(f"Images of shape {x.shape} are flat; reshape them to (N, H, W) first.")
    if x.ndim == 3:
        x = x[..., None]
    levels = num_levels_of(x)
    if levels is not None:
        if x.size and (x.min() < 0 or x.max() > 255):
            raise InvalidInputError(f"Integer pixels must be 8-bit grey levels 0..255; got values in [{x.min()}, {x.max()}].")
        unit = x.astype(np.float32)
        unit /= np.float32(levels - 1)  # in place: one float32 copy of the images, not three
        return unit
    x = x.astype(np.float32)
    if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
        raise InvalidInputError(f"Float pixels must be finite and in [0, 1]; got values in [{np.nanmin(x):g}, {np.nanmax(x):g}].")
    return x


#: Values :func:`grey_levels` and :func:`dequantize_static` convert at a time: their float64 temporaries stay a few
#: MB whatever the images' size.
CHUNK_VALUES = 2**20


def smallest_level_dtype(num_levels):
    """The smallest unsigned integer dtype that holds the levels ``0..L-1``: uint8 for ``L <= 256``, else uint16 or uint32."""
    num_levels = check_num_levels(num_levels)
    return next(np.dtype(t) for t in (np.uint8, np.uint16, np.uint32) if num_levels - 1 <= np.iinfo(t).max)


def grey_levels(x, num_levels, dtype=np.int32):
    """The integer levels ``k = round(x (L - 1))`` of images ``x = k / (L - 1)``, as ``dtype`` (int32 by default;
    :func:`smallest_level_dtype` gives the smallest that holds them: a quarter of the memory for ``L <= 256``).

    Raises :class:`~vae_tf.errors.InvalidInputError` (a ``ValueError``) when ``x`` is not on
    that grid (e.g. already dequantized, or ``num_levels`` is not the data's). Converts
    ``CHUNK_VALUES`` values at a time (CIFAR-10's training set at once took 5 GB of float64).
    """
    num_levels = check_num_levels(num_levels)
    dtype = np.dtype(dtype)
    if num_levels - 1 > np.iinfo(dtype).max:
        raise InvalidInputError(f"grey_levels: {dtype} cannot hold {num_levels} levels; use "
                                f"{smallest_level_dtype(num_levels)} or wider.")
    x = np.asarray(x)
    flat_x = x.reshape(-1)
    k = np.empty(x.shape, dtype)
    flat_k = k.reshape(-1)
    lowest, highest, worst = 0.0, 0.0, 0.0
    for start in range(0, flat_x.size, CHUNK_VALUES):
        scaled, off = level_offsets(flat_x[start:start + CHUNK_VALUES], num_levels)
        levels = np.rint(scaled)
        lowest, highest = min(lowest, levels.min()), max(highest, levels.max())
        worst = max(worst, off.max())
        if lowest >= 0 and highest <= num_levels - 1:
            flat_k[start:start + CHUNK_VALUES] = levels
    if x.size and (lowest < 0 or highest > num_levels - 1 or worst > GRID_TOLERANCE):
        raise InvalidInputError(f"Pixels are not grey levels k / (L - 1) with L = {num_levels}: they lie in "
                                f"[{x.min():g}, {x.max():g}] and up to {worst:.3g} levels off the grid.")
    return k


def dequantize_static(x, num_levels, seed=0):
    """One fixed dequantization ``y = (k + u) / L``, ``u ~ U[0, 1)`` from ``seed``, of ``x = k / (L - 1)``.

    Used for validation and test sets: every model with the same seed is scored on the same draw.
    """
    num_levels = check_num_levels(num_levels)
    x = np.asarray(x)
    values = x.reshape(-1)
    y = np.empty(values.size, np.float32)
    rng = np.random.default_rng(seed)
    # CHUNK_VALUES at a time (float64 draws of a whole test set are GBs): one generator drawn in order
    # gives the same u, value for value, as one draw of the whole shape.
    for start in range(0, values.size, CHUNK_VALUES):
        k = grey_levels(values[start:start + CHUNK_VALUES], num_levels, smallest_level_dtype(num_levels))
        y[start:start + CHUNK_VALUES] = (k + rng.random(k.size)) / num_levels
    return y.reshape(x.shape)


def binarize_static(x, seed=0):
    """One fixed Bernoulli draw per pixel: ``b = 1[u < x]``, ``u ~ U(0, 1)`` from ``seed``."""
    u = np.random.default_rng(seed).random(np.shape(x), dtype=np.float32)
    return (u < x).astype(np.float32)


def check_binarize(binarize):
    if binarize not in BINARIZATIONS:
        raise InvalidInputError(f"binarize must be one of {BINARIZATIONS}, got {binarize!r}.")
    return binarize
