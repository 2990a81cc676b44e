"""Image datasets for VAEs: MNIST, Fashion-MNIST, a tiny built-in default, and ``tf.data`` pipelines.

Where the arrays come from, first match wins:

1. ``path=`` (the CLI's ``--data``): a local ``.npz`` with ``x_train, y_train, x_test, y_test``,
   the layout ``keras.datasets.mnist.load_data`` uses;
2. ``$VAE_TF_DATA_DIR/<name>.npz`` (``mnist.npz``, ``fashion_mnist.npz``);
3. the real ``keras.datasets`` loaders (they download once into ``~/.keras/datasets``).

``"digits"`` is scikit-learn's 8x8 digits (1,797 images, shipped with scikit-learn): no
download, for smoke runs. Pixels become float32 in [0, 1] with a trailing channel axis,
``(N, H, W, 1)``.

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

DATASETS = ("digits", "mnist", "fashion_mnist")
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
DATA_DIR_ENV = "VAE_TF_DATA_DIR"
BINARIZATIONS = (None, "dynamic", "static")

#: The digits have no official split: the last 297 images are the test set (1500 remain to train).
_DIGITS_TEST_SIZE = 297


@dataclasses.dataclass
class ImageData:
    """Train / validation / test images in [0, 1], shape ``(N, H, W, 1)``, float32, with labels."""

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def event_shape(self):
        return tuple(self.x_train.shape[1:])

    def describe(self):
        return (f"{self.name} from {self.source}: {len(self.x_train)} train, {len(self.x_val)} validation, "
                f"{len(self.x_test)} test images of shape {self.event_shape}")


def to_unit_interval(x):
    """``(N, H, W)`` or ``(N, H, W, C)`` pixels to float32 in [0, 1] with a channel axis.

    Integer pixels are divided by 255 (by 1 when they are already 0/1); floats must already lie in [0, 1].
    """
    x = np.asarray(x)
    if x.ndim == 2:
        raise ValueError(f"Images of shape {x.shape} are flat; reshape them to (N, H, W) first.")
    if x.ndim == 3:
        x = x[..., None]
    if np.issubdtype(x.dtype, np.integer) or x.dtype == bool:
        top = 1.0 if x.size == 0 or x.max() <= 1 else 255.0
        return (x.astype(np.float32) / top).astype(np.float32)
    x = x.astype(np.float32)
    if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
        raise ValueError(f"Float pixels must be finite and in [0, 1]; got values in [{np.nanmin(x):g}, {np.nanmax(x):g}].")
    return x


def _how_to_pass_a_file(name):
    return (f"Pass a local copy with `vae-tf compare --data /path/to/{name}.npz` (in Python: "
            f"`vae_tf.data.load_dataset('{name}', path=...)` or `vae_tf.compare(data=...)`), or put {name}.npz "
            f"in the directory named by the environment variable {DATA_DIR_ENV}. The file is a NumPy .npz with "
            f"arrays {', '.join(NPZ_KEYS)} (uint8 0..255 images), as keras.datasets.{name}.load_data() writes. "
            f"Or use `--dataset digits`, the built-in 8x8 digits that need no download.")


def read_npz(path):
    """``(x_train, y_train, x_test, y_test)`` from a ``.npz``; a clear error naming the file otherwise."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise BadDatasetFileError(f"Dataset file {path!r} does not exist (or is not a file).")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in NPZ_KEYS if k not in archive.files]
            if missing:
                raise BadDatasetFileError(
                    f"Dataset file {path!r} lacks the arrays {', '.join(missing)}: it has "
                    f"{', '.join(archive.files) or 'no arrays'}; a dataset .npz needs {', '.join(NPZ_KEYS)}.")
            return tuple(archive[k] for k in NPZ_KEYS)
    except BadDatasetFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise BadDatasetFileError(
            f"Cannot read dataset file {path!r} as a NumPy .npz ({type(err).__name__}: {err}).") from err


def _keras_loader(name):
    import keras

    return {"mnist": keras.datasets.mnist.load_data, "fashion_mnist": keras.datasets.fashion_mnist.load_data}[name]


def load_arrays(dataset="digits", path=None):
    """``((x_train, y_train), (x_test, y_test)), source`` with raw pixels, from the first place that has them."""
    if path is not None:
        x_train, y_train, x_test, y_test = read_npz(path)
        return ((x_train, y_train), (x_test, y_test)), os.fspath(path)
    if dataset not in DATASETS:
        raise DatasetUnavailableError(f"Unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)} or pass a file.")
    if dataset == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y = (digits.images / 16.0).astype(np.float32), digits.target
        n = len(x) - _DIGITS_TEST_SIZE
        return ((x[:n], y[:n]), (x[n:], y[n:])), "scikit-learn (built in)"
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        candidate = os.path.join(data_dir, f"{dataset}.npz")
        if os.path.exists(candidate):
            x_train, y_train, x_test, y_test = read_npz(candidate)
            return ((x_train, y_train), (x_test, y_test)), candidate
    try:
        (x_train, y_train), (x_test, y_test) = _keras_loader(dataset)()
    except Exception as err:  # the loaders raise URLError, OSError, Exception("URL fetch failure ...")
        looked = f" and {DATA_DIR_ENV}={data_dir} has no {dataset}.npz" if data_dir else f" ({DATA_DIR_ENV} is not set)"
        raise DatasetUnavailableError(
            f"Cannot load {dataset}: keras.datasets could not download it ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else 'no network?'}){looked}. {_how_to_pass_a_file(dataset)}"
        ) from err
    return ((x_train, y_train), (x_test, y_test)), f"keras.datasets.{dataset}"


def _fraction_or_count(value, n, what):
    if isinstance(value, float) and 0 <= value < 1:
        return int(round(value * n))
    if isinstance(value, (int, np.integer)) and 0 <= value < n:
        return int(value)
    raise ValueError(f"{what} must be a fraction in [0, 1) or a count below {n}, got {value!r}.")


def load_dataset(dataset="digits", path=None, validation_split=0.1, train_size=None, test_size=None):
    """Loads a dataset as :class:`ImageData` in [0, 1].

    The validation set is the last ``validation_split`` of the training images (a fraction,
    or a count); ``train_size`` / ``test_size`` keep only the first images of each set (for
    short runs). ``path`` overrides where the arrays come from (``dataset`` then only names them).
    """
    ((x_train, y_train), (x_test, y_test)), source = load_arrays(dataset, path)
    name = dataset if path is None or dataset not in (None, "digits") else os.path.splitext(os.path.basename(path))[0]
    try:
        x_train, x_test = to_unit_interval(x_train), to_unit_interval(x_test)
    except ValueError as err:
        raise BadDatasetFileError(f"{source}: {err}") from err
    if len(x_train) != len(y_train) or len(x_test) != len(y_test) or x_train.shape[1:] != x_test.shape[1:]:
        raise BadDatasetFileError(
            f"{source}: inconsistent arrays: x_train {x_train.shape}, y_train {np.shape(y_train)}, "
            f"x_test {x_test.shape}, y_test {np.shape(y_test)}.")
    n_val = _fraction_or_count(validation_split, len(x_train), "validation_split")
    cut = len(x_train) - n_val
    x_val, y_val, x_train, y_train = x_train[cut:], y_train[cut:], x_train[:cut], y_train[:cut]
    if n_val == 0:
        # Keras needs validation data for the learning curves: fall back on the test images.
        x_val, y_val = x_test, y_test
    if train_size is not None:
        x_train, y_train = x_train[:train_size], y_train[:train_size]
        x_val, y_val = x_val[: max(1, train_size // 5)], y_val[: max(1, train_size // 5)]
    if test_size is not None:
        x_test, y_test = x_test[:test_size], y_test[:test_size]
    if len(x_train) == 0 or len(x_test) == 0:
        raise BadDatasetFileError(f"{source}: no training or no test images left after the split.")
    return ImageData(name, source, x_train, np.asarray(y_train), x_val, np.asarray(y_val), x_test, np.asarray(y_test))


def binarize_static(x, seed=0):
    """One fixed Bernoulli draw per pixel: ``b = 1[u < x]``, ``u ~ U(0, 1)`` from ``seed``."""
    u = np.random.default_rng(seed).random(np.shape(x), dtype=np.float32)
    return (u < x).astype(np.float32)


def _check_binarize(binarize):
    if binarize not in BINARIZATIONS:
        raise ValueError(f"binarize must be one of {BINARIZATIONS}, got {binarize!r}.")
    return binarize


def make_dataset(x, batch_size=100, binarize=None, shuffle=True, seed=0):
    """A ``tf.data`` pipeline of ``(x, x)`` batches (the VAE's input is its target), prefetched.

    ``binarize="dynamic"`` draws ``b = 1[u < x]`` afresh for every batch of every epoch from
    a stateless generator whose seeds ``tf.data.Dataset.random`` re-draws each iteration, so
    runs are repeatable but no two epochs see the same binary images. ``"static"`` binarizes
    once with :func:`binarize_static`. Shuffling also reshuffles every epoch.
    """
    binarize = _check_binarize(binarize)
    x = np.asarray(x, np.float32)
    if binarize == "static":
        x = binarize_static(x, seed)
    ds = tf.data.Dataset.from_tensor_slices(x)
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if binarize == "dynamic":
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, seeds).map(
            lambda xb, s: tf.cast(tf.random.stateless_uniform(tf.shape(xb), seed=s) < xb, tf.float32),
            num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(lambda xb: (xb, xb)).prefetch(tf.data.AUTOTUNE)
