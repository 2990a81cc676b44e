"""ImageData and load_dataset (train / validation / test splits of integer images as k / (L - 1)), and the tf.data
training pipeline (dynamic binarization or dequantization)."""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from vae_tf.data.levels import (binarize_static, check_binarize, check_num_levels, grey_levels, num_levels_of,
                                smallest_level_dtype, to_unit_interval)
from vae_tf.data.sources import DIGITS_LEVELS, load_arrays
from vae_tf.errors import BadDatasetFileError, InvalidInputError


@dataclasses.dataclass
class ImageData:
    """Train / validation / test images ``x = k / (L - 1)`` in [0, 1], shape ``(N, H, W, C)``, float32.

    ``C`` is 1 for grey images, 3 for a folder of colour images. ``num_levels`` is ``L``, the
    number of levels of the integer images (None when the source gave float pixels of unknown
    quantization). Labels are None for unlabelled data (binarized MNIST, a folder of images).
    """

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_levels: int = None

    @property
    def event_shape(self):
        return tuple(self.x_train.shape[1:])

    def describe(self):
        levels = f", {self.num_levels} levels per sub-pixel" if self.num_levels else ""
        return (f"{self.name} from {self.source}: {len(self.x_train)} train, {len(self.x_val)} validation, "
                f"{len(self.x_test)} test images of shape {self.event_shape}{levels}")


def _as_images(x):
    """Flat square rows ``(N, S*S)`` become ``(N, S, S)``; anything else is returned as is."""
    x = np.asarray(x)
    if x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        if side * side == x.shape[1]:
            return x.reshape(len(x), side, side)
    return x


def _fraction_or_count(value, n, what):
    if isinstance(value, float) and 0 <= value < 1:
        return int(round(value * n))
    if isinstance(value, (int, np.integer)) and 0 <= value < n:
        return int(value)
    raise InvalidInputError(f"{what} must be a fraction in [0, 1) or a count below {n}, got {value!r}.")


def _first(y, n):
    return None if y is None else np.asarray(y)[:n]


def load_dataset(dataset="digits", path=None, validation_split=0.1, train_size=None, test_size=None,
                 image_size=None, skip_bad_files=False, split_seed=0, log=print):
    """Loads a dataset as :class:`ImageData`: ``x = k / (L - 1)`` in [0, 1], with ``num_levels = L``.

    The validation set is the last ``validation_split`` of the training images (a fraction,
    or a count), except for a file with its own ``x_valid`` (binarized MNIST), whose split is
    kept. ``train_size`` / ``test_size`` keep only the first images of each set (for short
    runs). ``path`` overrides where the arrays come from (``dataset`` then only names them):
    a ``.npz``, or a folder of images (:mod:`vae_tf.data.image_folder`; named after the folder,
    no labels, shape ``(H, W, 1)`` or ``(H, W, 3)``) read with ``image_size``, ``skip_bad_files``
    and ``split_seed``, whose one-line description goes to ``log`` (None: silent).
    """
    arrays, source = load_arrays(dataset, path, image_size=image_size, skip_bad_files=skip_bad_files,
                                 split_seed=split_seed, log=log)
    name = dataset if path is None or dataset not in (None, "digits") else _name_of(path)
    try:
        raw_train, raw_test = _as_images(arrays["x_train"]), _as_images(arrays["x_test"])
        num_levels = arrays.get("num_levels") or num_levels_of(raw_train)
        x_train = to_unit_interval(raw_train) if "num_levels" not in arrays else _digits_unit(raw_train)
        x_test = to_unit_interval(raw_test) if "num_levels" not in arrays else _digits_unit(raw_test)
        own_val = "x_valid" in arrays
        if own_val:
            x_own_val = to_unit_interval(_as_images(arrays["x_valid"]))
    except ValueError as err:
        raise BadDatasetFileError(f"{source}: {err}") from err
    # Labels as one column (CIFAR-10's come as (N, 1)).
    y_train, y_test = (_label_column(arrays.get(key)) for key in ("y_train", "y_test"))
    if (x_train.shape[1:] != x_test.shape[1:] or (y_train is not None and len(x_train) != len(y_train))
            or (y_test is not None and len(x_test) != len(y_test))):
        raise BadDatasetFileError(
            f"{source}: inconsistent arrays: x_train {x_train.shape}, y_train {np.shape(y_train)}, "
            f"x_test {x_test.shape}, y_test {np.shape(y_test)}.")
    if own_val:
        x_val, y_val = x_own_val, None
    else:
        n_val = _fraction_or_count(validation_split, len(x_train), "validation_split")
        cut = len(x_train) - n_val
        x_val, y_val, x_train, y_train = x_train[cut:], _slice(y_train, cut, None), x_train[:cut], _slice(y_train, 0, cut)
        if n_val == 0:
            # Keras needs validation data for the learning curves: fall back on the test images.
            x_val, y_val = x_test, y_test
    if train_size is not None:
        x_train, y_train = x_train[:train_size], _first(y_train, train_size)
        x_val, y_val = x_val[: max(1, train_size // 5)], _first(y_val, max(1, train_size // 5))
    if test_size is not None:
        x_test, y_test = x_test[:test_size], _first(y_test, test_size)
    if len(x_train) == 0 or len(x_test) == 0:
        raise BadDatasetFileError(f"{source}: no training or no test images left after the split.")
    return ImageData(name, source, x_train, _first(y_train, None), x_val, _first(y_val, None), x_test,
                     _first(y_test, None), num_levels=num_levels)


def _name_of(path):
    """A dataset's name from its path: the folder's name, or the file's without its extension."""
    path = os.path.normpath(os.fspath(path))
    return os.path.basename(path) if os.path.isdir(path) else os.path.splitext(os.path.basename(path))[0]


def _label_column(y):
    y = None if y is None else np.asarray(y)
    return y[:, 0] if y is not None and y.ndim == 2 and y.shape[1] == 1 else y


def _slice(y, start, stop):
    return None if y is None else np.asarray(y)[start:stop]


def _digits_unit(x):
    # scikit-learn's digits are integers 0..16: x = k / 16.
    return (np.asarray(x, np.float32) / np.float32(DIGITS_LEVELS - 1))[..., None]


def make_dataset(x, batch_size=100, binarize=None, shuffle=True, seed=0, dequantize=None, levels=None):
    """A ``tf.data`` pipeline of ``(x, x)`` batches (the VAE's input is its target), prefetched.

    ``binarize="dynamic"`` draws ``b = 1[u < x]`` afresh for every batch of every epoch from
    a stateless generator whose seeds ``tf.data.Dataset.random`` re-draws each iteration, so
    runs are repeatable but no two epochs see the same binary images. ``"static"`` binarizes
    once with :func:`binarize_static`. ``dequantize=L`` turns grey levels ``x = k / (L - 1)``
    into ``(k + u) / L``, ``u ~ U[0, 1)``, with a fresh ``u`` for every batch of every epoch
    in the same stateless, repeatable way. Shuffling also reshuffles every epoch.

    ``levels=L`` says that ``x`` holds grey levels ``k / (L - 1)`` (else :class:`~vae_tf.errors.InvalidInputError`): the
    pipeline then holds ``k`` in the smallest integer type that fits (a quarter of float32's memory for
    8-bit images) and gives each batch back as the same float32 values ``k / (L - 1)``. Dequantization
    always carries ``k``.
    """
    binarize = check_binarize(binarize)
    x = np.asarray(x, np.float32)
    if dequantize is not None:
        if binarize is not None:
            raise InvalidInputError("make_dataset: binarize and dequantize exclude each other (pick one representation).")
        if levels is not None and levels != dequantize:
            raise InvalidInputError(f"make_dataset: levels={levels} but dequantize={dequantize}; they name the same L.")
        # Integer levels travel through the pipeline, so k is exact whatever float rounding did to x.
        levels = check_num_levels(dequantize)
    elif levels is not None:
        levels = check_num_levels(levels)
    if binarize == "static":
        x, levels = binarize_static(x, seed), 2  # 0 and 1: levels k / (2 - 1)
    if levels is not None:
        x = grey_levels(x, levels, smallest_level_dtype(levels))
    if dequantize is None and levels is not None:
        as_images = lambda kb: tf.cast(kb, tf.float32) / float(levels - 1)  # noqa: E731  (k / (L - 1), as load_dataset)
    else:
        as_images = lambda xb: xb  # noqa: E731
    if shuffle:
        # Shuffle the indices and gather each batch: a shuffle buffer of every image would be a second copy
        # of the training set (TensorFlow's CPU allocator keeps the most it ever held). Same batches, same order.
        stored = tf.constant(x)
        ds = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size).map(lambda i: as_images(tf.gather(stored, i)))
    else:
        ds = tf.data.Dataset.from_tensor_slices(x).batch(batch_size).map(as_images)
    if binarize == "dynamic" or dequantize is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        if binarize == "dynamic":
            draw = lambda xb, s: tf.cast(tf.random.stateless_uniform(tf.shape(xb), seed=s) < xb, tf.float32)  # noqa: E731
        else:
            draw = lambda kb, s: (tf.cast(kb, tf.float32) + tf.random.stateless_uniform(tf.shape(kb), seed=s)) / float(levels)  # noqa: E731
        ds = tf.data.Dataset.zip(ds, seeds).map(draw, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(lambda xb: (xb, xb)).prefetch(tf.data.AUTOTUNE)
