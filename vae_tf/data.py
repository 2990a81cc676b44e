"""Image datasets for VAEs: MNIST, Fashion-MNIST, binarized MNIST, a tiny built-in default, ``tf.data`` pipelines.

Where the arrays come from, first match wins:

1. ``path=`` (the CLI's ``--data``): a local ``.npz`` with ``x_train, y_train, x_test, y_test``,
   the layout ``keras.datasets.mnist.load_data`` uses, or with ``x_train, x_valid, x_test`` (no
   labels), the layout of Larochelle's statically binarized MNIST;
2. ``$VAE_TF_DATA_DIR/<name>.npz`` (``mnist.npz``, ``fashion_mnist.npz``, ``binarized_mnist.npz``);
3. the real ``keras.datasets`` loaders (they download once into ``~/.keras/datasets``; there is
   none for ``binarized_mnist``).

``"digits"`` is scikit-learn's 8x8 digits (1,797 images, shipped with scikit-learn): no
download, for smoke runs. ``"binarized_mnist"`` is the fixed binarization of Salakhutdinov &
Murray (2008) as distributed by Larochelle: 50,000 / 10,000 / 10,000 images of 0/1 pixels, its
own validation split, no labels.

Pixels are integer grey levels ``k = 0..L-1``, kept as float32 ``x = k / (L - 1)`` in [0, 1]
with a trailing channel axis, ``(N, H, W, 1)``; :attr:`ImageData.num_levels` is ``L`` (256
for ``uint8`` images, 17 for the digits' 0..16, 2 for binary images), and
:func:`grey_levels` recovers ``k`` exactly.

Dequantization (Theis et al., 2016) turns the levels into continuous values
``y = (k + u) / L``, ``u ~ U[0, 1)`` per pixel, so that a density ``p`` on ``[0, 1]^D`` gives
a lower bound on the probability of the integer image (:mod:`vae_tf.bits_per_dim`):

* dynamic: a fresh ``u`` for every batch of every epoch (:func:`make_dataset` with ``dequantize=L``);
* static: one fixed draw (:func:`dequantize_static`), for validation and test sets.

Binarization turns grey pixels ``x`` in [0, 1] into ``b ~ Bernoulli(x)``:

* dynamic: a fresh draw of every training image every epoch (Burda et al., 2015), done
  inside the ``tf.data`` pipeline (:func:`make_dataset` with ``binarize="dynamic"``);
* static: one fixed draw (:func:`binarize_static`), used for validation and test sets so
  every model is scored on the same binary images.
"""

import dataclasses
import os
import zipfile

import numpy as np
import tensorflow as tf

from vae_tf.errors import BadDatasetFileError, DatasetUnavailableError

DATASETS = ("digits", "mnist", "fashion_mnist", "binarized_mnist")
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
#: The layout of Larochelle's binarized MNIST: its own validation split, no labels.
SPLIT_NPZ_KEYS = ("x_train", "x_valid", "x_test")
DATA_DIR_ENV = "VAE_TF_DATA_DIR"
BINARIZATIONS = (None, "dynamic", "static")

#: The digits have no official split: the last 297 images are the test set (1500 remain to train).
_DIGITS_TEST_SIZE = 297
#: The digits' pixels are integers 0..16.
_DIGITS_LEVELS = 17


@dataclasses.dataclass
class ImageData:
    """Train / validation / test images ``x = k / (L - 1)`` in [0, 1], shape ``(N, H, W, 1)``, float32.

    ``num_levels`` is ``L``, the number of grey levels of the integer images (None when the
    source gave float pixels of unknown quantization). Labels are None for unlabelled data
    (binarized MNIST).
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
        levels = f", {self.num_levels} grey levels" if self.num_levels else ""
        return (f"{self.name} from {self.source}: {len(self.x_train)} train, {len(self.x_val)} validation, "
                f"{len(self.x_test)} test images of shape {self.event_shape}{levels}")


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
        raise ValueError(f"Images of shape {x.shape} are flat; reshape them to (N, H, W) first.")
    if x.ndim == 3:
        x = x[..., None]
    levels = num_levels_of(x)
    if levels is not None:
        if x.size and (x.min() < 0 or x.max() > 255):
            raise ValueError(f"Integer pixels must be 8-bit grey levels 0..255; got values in [{x.min()}, {x.max()}].")
        return (x.astype(np.float32) / np.float32(levels - 1)).astype(np.float32)
    x = x.astype(np.float32)
    if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
        raise ValueError(f"Float pixels must be finite and in [0, 1]; got values in [{np.nanmin(x):g}, {np.nanmax(x):g}].")
    return x


def _check_levels(num_levels):
    if isinstance(num_levels, bool) or not isinstance(num_levels, (int, np.integer)) or num_levels < 2:
        raise ValueError(f"num_levels (L, the number of grey levels) must be an int >= 2, got {num_levels!r}.")
    return int(num_levels)


def grey_levels(x, num_levels):
    """The integer levels ``k = round(x (L - 1))`` of images ``x = k / (L - 1)``, as int32.

    Raises ``ValueError`` when ``x`` is not on that grid (e.g. already dequantized, or
    ``num_levels`` is not the data's).
    """
    num_levels = _check_levels(num_levels)
    x = np.asarray(x, np.float64)
    k = np.rint(x * (num_levels - 1))
    off = np.abs(x * (num_levels - 1) - k)
    if x.size and (k.min() < 0 or k.max() > num_levels - 1 or off.max() > 1e-3):
        raise ValueError(f"Pixels are not grey levels k / (L - 1) with L = {num_levels}: they lie in "
                         f"[{x.min():g}, {x.max():g}] and up to {off.max():.3g} levels off the grid.")
    return k.astype(np.int32)


def dequantize_static(x, num_levels, seed=0):
    """One fixed dequantization ``y = (k + u) / L``, ``u ~ U[0, 1)`` from ``seed``, of ``x = k / (L - 1)``.

    Used for validation and test sets: every model with the same seed is scored on the same draw.
    """
    num_levels = _check_levels(num_levels)
    k = grey_levels(x, num_levels)
    u = np.random.default_rng(seed).random(np.shape(x))
    return ((k + u) / num_levels).astype(np.float32)


def _how_to_pass_a_file(name):
    return (f"Pass a local copy with `vae-tf compare --data /path/to/{name}.npz` (in Python: "
            f"`vae_tf.data.load_dataset('{name}', path=...)` or `vae_tf.compare(data=...)`), or put {name}.npz "
            f"in the directory named by the environment variable {DATA_DIR_ENV}. The file is a NumPy .npz with "
            f"arrays {', '.join(NPZ_KEYS)} (uint8 0..255 images), as keras.datasets.{name}.load_data() writes. "
            f"Or use `--dataset digits`, the built-in 8x8 digits that need no download.")


def read_npz(path):
    """The arrays of a dataset ``.npz`` as a dict; a clear error naming the file otherwise.

    Two layouts: ``x_train, y_train, x_test, y_test`` (Keras'), or ``x_train, x_valid, x_test``
    (Larochelle's binarized MNIST: flat 0/1 rows, no labels).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise BadDatasetFileError(f"Dataset file {path!r} does not exist (or is not a file).")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if all(k in archive.files for k in SPLIT_NPZ_KEYS) and "y_train" not in archive.files:
                return {k: archive[k] for k in SPLIT_NPZ_KEYS}
            missing = [k for k in NPZ_KEYS if k not in archive.files]
            if missing:
                raise BadDatasetFileError(
                    f"Dataset file {path!r} lacks the arrays {', '.join(missing)}: it has "
                    f"{', '.join(archive.files) or 'no arrays'}; a dataset .npz needs {', '.join(NPZ_KEYS)} "
                    f"(or {', '.join(SPLIT_NPZ_KEYS)} for binarized MNIST).")
            return {k: archive[k] for k in NPZ_KEYS}
    except BadDatasetFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise BadDatasetFileError(
            f"Cannot read dataset file {path!r} as a NumPy .npz ({type(err).__name__}: {err}).") from err


def _keras_loader(name):
    import keras

    return {"mnist": keras.datasets.mnist.load_data, "fashion_mnist": keras.datasets.fashion_mnist.load_data}[name]


def load_arrays(dataset="digits", path=None):
    """``(arrays, source)``: a dict of raw arrays (the keys of :func:`read_npz`) from the first place that has them.

    The digits come as their integer levels 0..16 (as float), with ``"num_levels": 17``.
    """
    if path is not None:
        return read_npz(path), os.fspath(path)
    if dataset not in DATASETS:
        raise DatasetUnavailableError(f"Unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)} or pass a file.")
    if dataset == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y = digits.images.astype(np.uint8), digits.target
        n = len(x) - _DIGITS_TEST_SIZE
        return {"x_train": x[:n], "y_train": y[:n], "x_test": x[n:], "y_test": y[n:],
                "num_levels": _DIGITS_LEVELS}, "scikit-learn (built in)"
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        candidate = os.path.join(data_dir, f"{dataset}.npz")
        if os.path.exists(candidate):
            return read_npz(candidate), candidate
    looked = f" and {DATA_DIR_ENV}={data_dir} has no {dataset}.npz" if data_dir else f" ({DATA_DIR_ENV} is not set)"
    if dataset == "binarized_mnist":
        raise DatasetUnavailableError(
            f"Cannot load binarized_mnist: keras.datasets has no loader for it{looked}. Pass Larochelle's "
            f"binarized MNIST as a .npz with arrays {', '.join(SPLIT_NPZ_KEYS)} (0/1 rows of 784 pixels): "
            f"`--data /path/to/binarized_mnist.npz` (in Python: `vae_tf.data.load_dataset('binarized_mnist', "
            f"path=...)`), or put binarized_mnist.npz in the directory named by {DATA_DIR_ENV}.")
    try:
        (x_train, y_train), (x_test, y_test) = _keras_loader(dataset)()
    except Exception as err:  # the loaders raise URLError, OSError, Exception("URL fetch failure ...")
        raise DatasetUnavailableError(
            f"Cannot load {dataset}: keras.datasets could not download it ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else 'no network?'}){looked}. {_how_to_pass_a_file(dataset)}"
        ) from err
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}, f"keras.datasets.{dataset}"


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
    raise ValueError(f"{what} must be a fraction in [0, 1) or a count below {n}, got {value!r}.")


def _first(y, n):
    return None if y is None else np.asarray(y)[:n]


def load_dataset(dataset="digits", path=None, validation_split=0.1, train_size=None, test_size=None):
    """Loads a dataset as :class:`ImageData`: ``x = k / (L - 1)`` in [0, 1], with ``num_levels = L``.

    The validation set is the last ``validation_split`` of the training images (a fraction,
    or a count), except for a file with its own ``x_valid`` (binarized MNIST), whose split is
    kept. ``train_size`` / ``test_size`` keep only the first images of each set (for short
    runs). ``path`` overrides where the arrays come from (``dataset`` then only names them).
    """
    arrays, source = load_arrays(dataset, path)
    name = dataset if path is None or dataset not in (None, "digits") else os.path.splitext(os.path.basename(path))[0]
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
    y_train, y_test = arrays.get("y_train"), arrays.get("y_test")
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


def _slice(y, start, stop):
    return None if y is None else np.asarray(y)[start:stop]


def _digits_unit(x):
    # scikit-learn's digits are integers 0..16: x = k / 16.
    return (np.asarray(x, np.float32) / np.float32(_DIGITS_LEVELS - 1))[..., None]


def binarize_static(x, seed=0):
    """One fixed Bernoulli draw per pixel: ``b = 1[u < x]``, ``u ~ U(0, 1)`` from ``seed``."""
    u = np.random.default_rng(seed).random(np.shape(x), dtype=np.float32)
    return (u < x).astype(np.float32)


def _check_binarize(binarize):
    if binarize not in BINARIZATIONS:
        raise ValueError(f"binarize must be one of {BINARIZATIONS}, got {binarize!r}.")
    return binarize


def make_dataset(x, batch_size=100, binarize=None, shuffle=True, seed=0, dequantize=None):
    """A ``tf.data`` pipeline of ``(x, x)`` batches (the VAE's input is its target), prefetched.

    ``binarize="dynamic"`` draws ``b = 1[u < x]`` afresh for every batch of every epoch from
    a stateless generator whose seeds ``tf.data.Dataset.random`` re-draws each iteration, so
    runs are repeatable but no two epochs see the same binary images. ``"static"`` binarizes
    once with :func:`binarize_static`. ``dequantize=L`` turns grey levels ``x = k / (L - 1)``
    into ``(k + u) / L``, ``u ~ U[0, 1)``, with a fresh ``u`` for every batch of every epoch
    in the same stateless, repeatable way. Shuffling also reshuffles every epoch.
    """
    binarize = _check_binarize(binarize)
    x = np.asarray(x, np.float32)
    if dequantize is not None:
        if binarize is not None:
            raise ValueError("make_dataset: binarize and dequantize exclude each other (pick one representation).")
        levels = _check_levels(dequantize)
        # Integer levels travel through the pipeline, so k is exact whatever float rounding did to x.
        x = grey_levels(x, levels).astype(np.float32)
    if binarize == "static":
        x = binarize_static(x, seed)
    ds = tf.data.Dataset.from_tensor_slices(x)
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if binarize == "dynamic" or dequantize is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        if binarize == "dynamic":
            draw = lambda xb, s: tf.cast(tf.random.stateless_uniform(tf.shape(xb), seed=s) < xb, tf.float32)  # noqa: E731
        else:
            draw = lambda kb, s: (kb + tf.random.stateless_uniform(tf.shape(kb), seed=s)) / float(levels)  # noqa: E731
        ds = tf.data.Dataset.zip(ds, seeds).map(draw, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(lambda xb: (xb, xb)).prefetch(tf.data.AUTOTUNE)
