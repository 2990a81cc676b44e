"""Where a dataset's arrays come from: a local ``.npz``, ``$VAE_TF_DATA_DIR``, ``keras.datasets``, or scikit-learn.

First match wins:

1. ``path=`` (the CLI's ``--data``): a folder of images (:mod:`vae_tf.data.image_folder`: PNG,
   JPEG, WebP, BMP; no labels), or a local ``.npz`` with ``x_train, y_train, x_test, y_test``,
   the layout ``keras.datasets.mnist.load_data`` uses, or with ``x_train, x_valid, x_test`` (no
   labels), the layout of Larochelle's statically binarized MNIST;
2. ``$VAE_TF_DATA_DIR/<name>.npz`` (``mnist.npz``, ``fashion_mnist.npz``, ``binarized_mnist.npz``,
   ``cifar10.npz``: 32x32 RGB, ``x_train (50000, 32, 32, 3)``, labels ``(N, 1)``, as ``keras.datasets.cifar10``);
3. the real ``keras.datasets`` loaders (they download once into ``~/.keras/datasets``; there is
   none for ``binarized_mnist``).

``"digits"`` is scikit-learn's 8x8 digits (1,797 images, shipped with scikit-learn): no
download, for smoke runs.
"""

import os
import zipfile

import numpy as np

from vae_tf.choices import DATA_DIR_ENV, DATASETS
from vae_tf.data.image_folder import read_image_folder
from vae_tf.errors import BadDatasetFileError, DatasetUnavailableError
from vae_tf.file_kinds import not_an_npz_message

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
#: The layout of Larochelle's binarized MNIST: its own validation split, no labels.
SPLIT_NPZ_KEYS = ("x_train", "x_valid", "x_test")
#: The digits have no official split: the last 297 images are the test set (1500 remain to train).
DIGITS_TEST_SIZE = 297
#: The digits' pixels are integers 0..16.
DIGITS_LEVELS = 17


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
        wrong_kind = not_an_npz_message(path)
        if wrong_kind is not None:  # NumPy would say "allow_pickle=False" of a PNG
            raise BadDatasetFileError(wrong_kind)
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

    return {"mnist": keras.datasets.mnist.load_data, "fashion_mnist": keras.datasets.fashion_mnist.load_data,
            "cifar10": keras.datasets.cifar10.load_data}[name]


def load_arrays(dataset="digits", path=None, image_size=None, skip_bad_files=False, split_seed=0, log=None):
    """``(arrays, source)``: a dict of raw arrays (the keys of :func:`read_npz`) from the first place that has them.

    The digits come as their integer levels 0..16 (as float), with ``"num_levels": 17``. A folder
    ``path`` is read by :func:`vae_tf.data.image_folder.read_image_folder` with ``image_size``,
    ``skip_bad_files`` and ``split_seed`` (labels None); ``log`` (e.g. ``print``) receives its one-line
    description. ``image_size`` and ``skip_bad_files`` apply to folders only.
    """
    if path is not None and os.path.isdir(path):
        folder = read_image_folder(path, image_size=image_size, skip_bad_files=skip_bad_files, seed=split_seed)
        if log is not None:
            log(folder.describe())
        return folder.arrays(), os.fspath(path)
    if image_size is not None or skip_bad_files:
        given = "image_size (--image-size)" if image_size is not None else "skip_bad_files (--skip-bad-files)"
        where = f"{os.fspath(path)!r}, a file" if path is not None else f"the dataset {dataset!r}"
        raise BadDatasetFileError(f"{given} applies to a folder of images (--data DIR), not to {where}.")
    if path is not None:
        return read_npz(path), os.fspath(path)
    if dataset not in DATASETS:
        raise DatasetUnavailableError(f"Unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)} or pass a file.")
    if dataset == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y = digits.images.astype(np.uint8), digits.target
        n = len(x) - DIGITS_TEST_SIZE
        return {"x_train": x[:n], "y_train": y[:n], "x_test": x[n:], "y_test": y[n:],
                "num_levels": DIGITS_LEVELS}, "scikit-learn (built in)"
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


