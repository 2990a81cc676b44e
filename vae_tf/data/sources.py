"""Where a dataset's arrays come from (a .npz file or a folder given with --data, $VAE_TF_DATA_DIR, keras.datasets, the
built-in digits), and what kind of file a path is when it is not a .npz."""

import os
import zipfile

import numpy as np

from vae_tf.data.image_folder import read_image_folder
from vae_tf.errors import BadDatasetFileError, DatasetUnavailableError

#: Named datasets ``load_dataset`` knows.
DATASETS = ("digits", "mnist", "fashion_mnist", "binarized_mnist", "cifar10")
#: The environment variable naming a directory of local dataset files, ``<name>.npz``.
DATA_DIR_ENV = "VAE_TF_DATA_DIR"


#: The arrays of a dataset file (``keras.datasets``' layout); the labels are optional.
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
    ``path`` is read by :func:`vae_tf.data.read_image_folder` with ``image_size``,
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


NPZ = "a NumPy .npz archive"
KERAS = "a Keras model (.keras)"
ZIP = "a zip archive"
BROKEN_ZIP = "a truncated or corrupt zip archive"
TEXT = "a text file"
EMPTY = "an empty file"
UNKNOWN = "not a file format vae-tf knows"

#: (leading bytes, kind); RIFF....WEBP and BMP are checked in :func:`file_kind` (their magic has gaps).
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"BZh", "bz2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x93NUMPY", "a single NumPy .npy array"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file"),
)
IMAGE_KINDS = ("a PNG image", "a JPEG image", "a GIF image", "a WebP image", "a BMP image")

#: Bytes read to tell a kind: the longest magic, and enough to call a file text.
HEAD_BYTES = 4096


def _zip_kind(path):
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile, EOFError):
        return BROKEN_ZIP
    if "config.json" in names:
        return KERAS
    if all(name.endswith(".npy") for name in names):  # what np.savez writes (an empty one too)
        return NPZ
    return ZIP


def file_kind(path):
    """The kind of the file at ``path`` as a phrase ("a PNG image", :data:`NPZ`, :data:`TEXT`, ...).

    Read from the leading bytes (a zip archive from its directory), never from the name.
    """
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if not head:
        return EMPTY
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path)
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[:2] == b"BM" and head[6:10] == b"\0\0\0\0" and len(head) >= 26:  # 'BM', file size, 4 reserved zero bytes
        return "a BMP image"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:  # a multi-byte character cut at HEAD_BYTES still counts as text
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return UNKNOWN
    return TEXT if "\0" not in text else UNKNOWN


def not_an_npz_message(path, expected="a .npz dataset", folder_hint="--data DIR"):
    """``None`` when ``path`` is a readable ``.npz``; else one line saying what it is and what to pass instead.

    ``folder_hint`` is how the caller passes a folder of images (an option or an argument).
    """
    kind = file_kind(path)
    if kind == NPZ:
        return None
    if kind in IMAGE_KINDS:
        advice = f"pass the folder that holds it with {folder_hint}"
    elif kind == KERAS:
        advice = "a model goes where the command takes MODEL"
    elif kind == ZIP:
        advice = f"if it holds images, unzip it and pass the folder with {folder_hint}"
    elif kind == "a single NumPy .npy array":
        advice = "save the arrays into a .npz with np.savez"
    elif kind == BROKEN_ZIP:
        advice = "it was cut short (an interrupted download or copy?): copy it again"
    else:
        advice = f"a .npz is written by np.savez; pass a folder of images with {folder_hint}"
    return f"{os.fspath(path)!r} is {kind}, not {expected}; {advice}"
