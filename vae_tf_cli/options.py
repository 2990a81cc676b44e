"""The options the commands share, and the argument types that check every value before any work starts.

Each type takes the option's text and returns the value, or raises ``argparse.ArgumentTypeError`` with a
message that, after argparse's "argument --name:", names what was expected and what was given. Standard
library only (no TensorFlow), so that checking a command line is quick.
"""

import argparse
import math
import os
import zipfile


#: Seeds go to ``keras.utils.set_random_seed``, which feeds NumPy's 32-bit seed.
MAX_SEED = 2**32 - 1

# Upper bounds of values that cannot be meant: refused before any work starts, the bound in the message
# (``train --epochs 99999999999999999999`` was accepted and ran until killed).
#: Epochs (and KL warm-up epochs): Burda et al. (2015) trained 3,280; 10,000 of even the 8x8 digits take hours here.
MAX_EPOCHS = 10_000
#: Latent units, and units of one hidden layer.
MAX_LATENT_DIM = 4_096
MAX_LAYER_WIDTH = 16_384
#: Hidden layers of ``--hidden``.
MAX_LAYERS = 64
#: Images per batch (2^16).
MAX_BATCH_SIZE = 65_536
#: Importance samples per test image (Burda et al. used 5,000) and per training example (IWAE training: 5 to 50).
MAX_TEST_SAMPLES = 100_000
MAX_TRAINING_SAMPLES = 1_000
#: Images kept or scored (--train-size, --test-size, --iwae-examples): ImageNet has 1.3 million.
MAX_IMAGES = 100_000_000
#: Pixels of an image side (--image-size).
MAX_IMAGE_SIDE = 4_096
#: Adam's learning rate (1e-3 by default): a step of more than 1 cannot be meant.
MAX_LEARNING_RATE = 1.0
#: Free bits per latent unit, in nats (0.1 to 2 in the literature).
MAX_FREE_BITS = 100.0


def _fail(expected, text):
    raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}")


def _integer(text, expected):
    try:
        return int(text)
    except ValueError:
        _fail(expected, text)


def _number(text, expected):
    try:
        value = float(text)
    except ValueError:
        _fail(expected, text)
    if not math.isfinite(value):
        _fail(expected, text)
    return value


def _checked(text, parse, expected, ok):
    value = parse(text, expected)
    if not ok(value):
        _fail(expected, text)
    return value


def positive_int(text):
    """An integer >= 1 (counts: epochs, batch size, samples, sizes)."""
    return _checked(text, _integer, "a positive integer", lambda v: v >= 1)


def _at_most(check, maximum, expected):
    """The type ``check`` with the value at most ``maximum`` as well: "must be <expected> and at most <maximum>"."""

    def parse(text):
        value = check(text)
        if value > maximum:
            _fail(f"{expected} and at most {maximum if isinstance(maximum, int) else f'{maximum:g}'}", text)
        return value

    parse.__name__ = check.__name__
    return parse


def non_negative_int(text):
    """An integer >= 0 (e.g. epochs of warm-up, where 0 means none)."""
    return _checked(text, _integer, "an integer >= 0", lambda v: v >= 0)


def seed(text):
    """An integer in [0, 2**32 - 1]."""
    return _checked(text, _integer, f"an integer from 0 to {MAX_SEED}", lambda v: 0 <= v <= MAX_SEED)


def positive_float(text):
    """A finite number > 0 (e.g. a learning rate)."""
    return _checked(text, _number, "a number > 0", lambda v: v > 0)


def non_negative_float(text):
    """A finite number >= 0 (e.g. free bits in nats, a KL weight)."""
    return _checked(text, _number, "a number >= 0", lambda v: v >= 0)


#: The bounded counts and numbers the commands take (the bounds above).
epochs = _at_most(positive_int, MAX_EPOCHS, "a positive integer")
warmup_epochs = _at_most(non_negative_int, MAX_EPOCHS, "an integer >= 0")
latent_dim = _at_most(positive_int, MAX_LATENT_DIM, "a positive integer")
batch_size = _at_most(positive_int, MAX_BATCH_SIZE, "a positive integer")
test_samples = _at_most(positive_int, MAX_TEST_SAMPLES, "a positive integer")
training_samples = _at_most(positive_int, MAX_TRAINING_SAMPLES, "a positive integer")
image_count = _at_most(positive_int, MAX_IMAGES, "a positive integer")
learning_rate = _at_most(positive_float, MAX_LEARNING_RATE, "a number > 0")
free_bits = _at_most(non_negative_float, MAX_FREE_BITS, "a number >= 0")


def fraction(text):
    """A number in [0, 1]."""
    return _checked(text, _number, "a number from 0 to 1", lambda v: 0 <= v <= 1)


def existing_file(text):
    """A path to a file that exists."""
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a file")
    return text


def _zip_file(text, kind, suffix):
    existing_file(text)
    if not text.endswith(suffix):
        raise argparse.ArgumentTypeError(f"{text!r} is not a {kind} file (the name must end in {suffix})")
    if not zipfile.is_zipfile(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a readable {kind} file (truncated, or not a zip archive)")
    return text


def _file_or_folder(text):
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"no such file or folder: {text!r}")
    if not os.path.isdir(text) and not os.access(text, os.R_OK):
        raise argparse.ArgumentTypeError(f"cannot read {text!r} (permission denied)")
    return text  # a folder of images, or a .npz: read (and its kind checked) when the command loads it


def dataset_file_or_folder(text):
    """``--data``: a NumPy ``.npz`` dataset or a folder of images that exists (what it holds is checked when it is
    loaded: a file of another kind is named by its kind, "'x.png' is a PNG image, not a .npz dataset; ...")."""
    return _file_or_folder(text)


def images_file_or_folder(text):
    """The images ``vae-tf compress`` codes: a ``.npz`` of integer images, or a folder of images, that exists."""
    return _file_or_folder(text)


def image_size(text):
    """``"32x24"`` -> ``(32, 24)``: height x width in pixels, both from 1 to ``MAX_IMAGE_SIDE``."""
    expected = "HEIGHTxWIDTH in pixels, both >= 1, such as 32x32"
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        _fail(expected, text)
    size = (int(parts[0]), int(parts[1]))
    if min(size) < 1:
        _fail(expected, text)
    if max(size) > MAX_IMAGE_SIDE:
        _fail(f"HEIGHTxWIDTH in pixels, both no larger than {MAX_IMAGE_SIDE}", text)
    return size


def keras_file(text):
    """An existing ``.keras`` model file: a zip archive holding ``config.json``."""
    _zip_file(text, ".keras", ".keras")
    try:
        with zipfile.ZipFile(text) as archive:
            has_config = "config.json" in archive.namelist()
    except (OSError, zipfile.BadZipFile) as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a readable .keras file ({error})") from None
    if not has_config:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Keras model file (no config.json inside)")
    return text


def new_keras_file(text):
    """Where to write a ``.keras`` model: the name ends in ``.keras`` and is not a directory."""
    if not text.endswith(".keras"):
        raise argparse.ArgumentTypeError(f"must be a file name ending in .keras, got {text!r}")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; give a file name ending in .keras")
    return text


def directory(text):
    """A directory to write into: it may not exist yet, but must not be a file."""
    if not text:
        _fail("a directory", text)
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a directory")
    return text


def new_directory(text):
    """A directory to create: it must not exist, or be empty."""
    directory(text)
    if os.path.isdir(text) and os.listdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} already exists and is not empty; give a new directory")
    return text


def name_list(text):
    """Comma-separated names, at least one: "a,b" -> ["a", "b"]."""
    names = [name.strip() for name in text.split(",")]
    if not text.strip() or not all(names):
        _fail("comma-separated names such as a,b", text)
    return names


def layer_widths(text):
    """``"200,200"`` -> ``(200, 200)``: at most ``MAX_LAYERS`` layer widths, each from 1 to ``MAX_LAYER_WIDTH``."""
    expected = "comma-separated positive layer widths such as 200,200"
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        _fail(expected, text)
    if min(sizes) < 1:
        _fail(expected, text)
    if max(sizes) > MAX_LAYER_WIDTH or len(sizes) > MAX_LAYERS:
        _fail(f"at most {MAX_LAYERS} comma-separated layer widths, each no larger than {MAX_LAYER_WIDTH}", text)
    return sizes


#: Hidden-layer activations ``vae-tf train --activation`` offers (Keras activation names).
ACTIVATIONS = ("relu", "tanh", "elu", "gelu", "selu", "silu", "softplus", "sigmoid")

#: What a folder of images is, for the --data help texts.
FOLDER_HELP = ("or a folder of PNG/JPEG/WebP/BMP images (its train/ and test/ subfolders are the split, "
               "else a seeded 90/10 split)")


def add_image_folder_options(p):
    p.add_argument("--image-size", type=image_size, default=None, metavar="HxW",
                   help="resize every image of a folder to height x width pixels, e.g. 32x32 (needed when the "
                        "folder's images differ in size); the resized images are the dataset")
    p.add_argument("--skip-bad-files", action="store_true",
                   help="leave out the files of a folder that cannot be read as images (and say how many), "
                        "instead of stopping at the first")


def add_data_options(p, dataset_default="digits"):
    p.add_argument("--dataset", default=dataset_default, metavar="NAME",
                   help="digits (the built-in 8x8 digits), mnist, fashion_mnist, binarized_mnist or cifar10, read from "
                        "$VAE_TF_DATA_DIR/<name>.npz or keras.datasets" + (
                            f" (default: {dataset_default})" if dataset_default else ""))
    p.add_argument("--data", type=dataset_file_or_folder, default=None, metavar="NPZ_OR_DIR",
                   help=f"local .npz with x_train, y_train, x_test, y_test, {FOLDER_HELP} (overrides --dataset)")
    add_image_folder_options(p)


def add_network_option(p):
    p.add_argument("--network", default="auto", metavar="NAME",
                   help="encoder and decoder: mlp, conv, resnet, or auto (default): resnet for colour images "
                        "or images of 32x32 and up, mlp otherwise")


def add_model_option(p):
    p.add_argument("--model", default="vae", metavar="NAME",
                   help="model family: vae (default: one latent vector of --latent-dim units) or hierarchical (a "
                        "top-down hierarchy of spatial latent layers with residual cells; --latent-dim and "
                        "--network do not apply)")


def check_library_choices(args, **valid):
    """Checks, once ``vae_tf`` is imported, the options whose values the library owns (``network=NETWORKS``, ...):
    its one list of each, in argparse's words. Raises :class:`vae_tf.errors.UserInputError` (one line, exit 2)
    before any data is read."""
    from vae_tf.errors import UserInputError

    for name, choices in valid.items():
        value = getattr(args, name, None)
        if value is not None and value not in choices:
            raise UserInputError(f"argument --{name.replace('_', '-')}: invalid choice: {value!r} "
                                 f"(choose from {', '.join(map(str, choices))})")
