"""A folder of images as a dataset: :func:`~vae_tf.data.read_image_folder` reads PNG, JPEG, WebP and BMP files
with Pillow.

The files under ``DIR`` (recursively, hidden files and folders left out) are read in sorted
order of their path, so the arrays are the same on every run and machine. The split:

* ``DIR/train/`` and ``DIR/test/`` both exist: they are the split (other files are left out);
* otherwise a seeded split: ``n_test = max(1, round(test_fraction * N))`` images drawn by
  ``numpy.random.default_rng(seed).permutation(N)``; each split keeps the sorted order.

Pixels stay the 8-bit integers of the files, ``uint8`` of shape ``(N, H, W, C)``: ``C = 1``
for greyscale ('L', and 1-bit '1' as 0/255), ``C = 3`` for colour. Images with alpha or a
palette ('RGBA', 'LA', 'P', ...) are converted (alpha dropped) and counted in the description;
a folder that mixes grey and colour images becomes all RGB. 16-bit and float images are
refused (their levels do not fit 8 bits). ``image_size=(H, W)`` resizes every image with
Pillow's Lanczos filter, and the resized images are the dataset. A file Pillow cannot read is
an error naming it, or, with ``skip_bad_files=True``, left out and counted.

For the codec, :func:`~vae_tf.data.folder_images` lists every image of a folder (no split) with its
relative name, size and mode, and reads them batch by batch (``FolderImages.read``), with the same
conversions; ``png_folder`` writes a folder of lossless PNGs back, atomically.
"""

import contextlib
import dataclasses
import os

import numpy as np

from vae_tf.atomic_files import atomic_directory
from vae_tf.errors import BadDatasetFileError

#: What counts as an image file (case-insensitive).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
#: Default share of a folder without train/ and test/ that becomes the test split.
TEST_FRACTION = 0.1
#: Modes kept as they are, and the channels they give.
CHANNELS = {"L": 1, "RGB": 3}
#: Modes converted losslessly or by dropping alpha / resolving a palette: mode -> target mode.
CONVERSIONS = {"1": "L", "LA": "L", "La": "L", "P": "RGB", "PA": "RGB", "RGBA": "RGB", "RGBa": "RGB",
               "RGBX": "RGB", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB"}


def _count(n, thing):
    return f"{n} {thing}{'s' * (n != 1)}"


def _show(path):
    return repr(os.fspath(path))


def image_files(directory):
    """The image files under ``directory``, recursively, sorted by their path relative to it.

    Hidden files and folders (a leading dot, such as macOS' ``._x.png`` copies) are left out.
    """
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(root, f) for f in files
                  if not f.startswith(".") and f.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found, key=lambda p: os.path.relpath(p, directory).split(os.sep))


def _no_images_error(directory):
    others = []
    for root, dirs, files in os.walk(directory):
        others += [os.path.relpath(os.path.join(root, f), directory) for f in files]
    found = (f"it holds {len(others)} other file{'s' * (len(others) != 1)}, e.g. {sorted(others)[0]!r}" if others
             else "it is empty")
    return BadDatasetFileError(
        f"No images in the folder {_show(directory)}: looked for {', '.join(IMAGE_EXTENSIONS)} files in it and its "
        f"subfolders, and {found}.")


def _read_one(path, image_size):
    """``(pixels, converted_from)``: ``uint8 (H, W, C)`` and the mode it was converted from (None if none).

    Raises ``OSError`` and friends for a file Pillow cannot read; :class:`BadDatasetFileError` for a mode we refuse.
    """
    from PIL import Image

    with Image.open(path) as image:
        image.load()  # decodes now: a truncated file fails here, not later
        mode, converted = image.mode, None
        if mode in CONVERSIONS:
            converted, mode = mode, CONVERSIONS[mode]
            image = image.convert(mode)
        elif mode not in CHANNELS:
            raise BadDatasetFileError(
                f"{_show(path)} is an image of mode {image.mode!r} (16-bit or float pixels): only 8-bit grey, "
                f"RGB, or images with alpha or a palette are read; save it with 8 bits per channel.")
        if image_size is not None and image.size != (image_size[1], image_size[0]):
            image = image.resize((image_size[1], image_size[0]), Image.Resampling.LANCZOS)
        pixels = np.asarray(image, dtype=np.uint8)
    return pixels.reshape(pixels.shape[:2] + (CHANNELS[mode],)), converted


@dataclasses.dataclass
class ImageFolder:
    """The images of a folder, split: ``uint8 (N, H, W, C)`` arrays and what reading them did."""

    directory: str
    x_train: np.ndarray
    x_test: np.ndarray
    train_files: list
    test_files: list
    split: str  # "train/ and test/ folders", or "seeded split, seed S"
    converted: dict  # mode -> number of files converted from it
    skipped: list  # (file, why) of each file left out with skip_bad_files
    grey_to_rgb: int = 0  # grey images made RGB because the folder also has colour ones

    def arrays(self):
        """The arrays as :func:`vae_tf.data.load_arrays` gives them: no labels."""
        return {"x_train": self.x_train, "y_train": None, "x_test": self.x_test, "y_test": None}

    def describe(self):
        """One line, e.g. "images/: 90 train, 10 test images (seeded split, seed 0) of 32x32x3"."""
        h, w, c = self.x_train.shape[1:]
        notes = []
        if self.converted:
            modes = ", ".join(f"{n} {mode}" for mode, n in sorted(self.converted.items()))
            notes.append(f"converted {_count(sum(self.converted.values()), 'image')} to {'RGB' if c == 3 else 'L'} "
                         f"(alpha dropped, palettes resolved; modes: {modes})")
        if self.grey_to_rgb:
            notes.append(f"made {_count(self.grey_to_rgb, 'greyscale image')} RGB to match the colour ones")
        if self.skipped:
            first = os.path.relpath(self.skipped[0][0], self.directory)
            notes.append(f"skipped {_count(len(self.skipped), 'unreadable file')} (first: {first!r})")
        return (f"{self.directory}: {len(self.x_train)} train, {len(self.x_test)} test images ({self.split}) of "
                f"{h}x{w}x{c}" + "".join(f"; {note}" for note in notes))


def _read_or_skip(path, image_size, skip_bad_files, skipped):
    """``_read_one``, or None for a file Pillow cannot read when ``skip_bad_files`` (appended to ``skipped``)."""
    from PIL import Image

    try:
        return _read_one(path, image_size)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        if isinstance(err, BadDatasetFileError) and not skip_bad_files:
            raise
        reason = f"{type(err).__name__}: {' '.join(str(err).split())[:120]}"
        if not skip_bad_files:
            raise BadDatasetFileError(f"Cannot read the image {_show(path)} ({reason}); remove it, or pass "
                                      f"--skip-bad-files (skip_bad_files=True in Python) to leave such files "
                                      f"out.") from None
        skipped.append((path, reason))
        return None


def _read_all(paths, directory, image_size, skip_bad_files, converted, skipped):
    """The pixels of each readable file, and the files they came from; sizes must agree without ``image_size``."""
    images, kept, first = [], [], None
    for path in paths:
        read = _read_or_skip(path, image_size, skip_bad_files, skipped)
        if read is None:
            continue
        pixels, was = read
        if first is None:
            first = (path, pixels.shape)
        elif pixels.shape[:2] != first[1][:2]:
            size = "x".join(map(str, first[1][:2]))
            raise BadDatasetFileError(
                f"Images in {_show(directory)} differ in size: {_show(first[0])} is {size} and {_show(path)} is "
                f"{pixels.shape[0]}x{pixels.shape[1]} (height x width); pass --image-size HxW, e.g. --image-size "
                f"{size} (image_size=(H, W) in Python), to resize them all.")
        if was:
            converted[was] = converted.get(was, 0) + 1
        images.append(pixels)
        kept.append(path)
    return images, kept


def _seeded_split(n, seed, test_fraction):
    n_test = max(1, int(round(test_fraction * n)))
    chosen = np.zeros(n, bool)
    chosen[np.random.default_rng(seed).permutation(n)[:n_test]] = True
    return np.flatnonzero(~chosen), np.flatnonzero(chosen)


def read_image_folder(directory, image_size=None, skip_bad_files=False, seed=0, test_fraction=TEST_FRACTION):
    """Reads the images under ``directory`` into an :class:`ImageFolder` (see the module's docstring).

    Args:
        directory: the folder; ``directory/train`` and ``directory/test`` are the split when both exist.
        image_size: ``(H, W)`` to resize every image to, or None (then all images must have one size).
        skip_bad_files: leave out files Pillow cannot read (counted in the description) instead of failing.
        seed, test_fraction: the seeded split without train/ and test/: ``max(1, round(test_fraction * N))``
            test images.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise BadDatasetFileError(f"{_show(directory)} is not a folder.")
    if image_size is not None:
        image_size = tuple(int(v) for v in image_size)
        if len(image_size) != 2 or min(image_size) < 1:
            raise BadDatasetFileError(f"image_size must be (height, width) in pixels, both >= 1; got {image_size}.")
    if not 0 < test_fraction < 1:
        raise BadDatasetFileError(f"test_fraction must be in (0, 1), got {test_fraction!r}.")
    converted, skipped = {}, []
    train_dir, test_dir = os.path.join(directory, "train"), os.path.join(directory, "test")
    if os.path.isdir(train_dir) and os.path.isdir(test_dir):
        parts = []
        for sub in (train_dir, test_dir):
            paths = image_files(sub)
            if not paths:
                raise _no_images_error(sub)
            parts.append(paths)
        images, kept = _read_all(parts[0] + parts[1], directory, image_size, skip_bad_files, converted, skipped)
        kept_set = set(parts[0])
        train_idx = np.array([i for i, p in enumerate(kept) if p in kept_set], int)
        test_idx = np.array([i for i, p in enumerate(kept) if p not in kept_set], int)
        split = "train/ and test/ folders"
    else:
        paths = image_files(directory)
        if not paths:
            raise _no_images_error(directory)
        images, kept = _read_all(paths, directory, image_size, skip_bad_files, converted, skipped)
        if len(images) < 2:
            raise BadDatasetFileError(f"{_show(directory)} has {len(images)} readable image(s); a train and a test "
                                      f"split need at least 2.")
        train_idx, test_idx = _seeded_split(len(images), seed, test_fraction)
        split = f"seeded split, seed {seed}"
    if len(train_idx) == 0 or len(test_idx) == 0:
        raise BadDatasetFileError(f"{_show(directory)}: no readable images left in train/ or test/.")
    grey_to_rgb = 0
    if len({im.shape[2] for im in images}) > 1:
        grey_to_rgb = sum(im.shape[2] == 1 for im in images)
        images = [np.repeat(im, 3, axis=2) if im.shape[2] == 1 else im for im in images]
    stacked = np.stack(images)
    return ImageFolder(directory, stacked[train_idx], stacked[test_idx], [kept[i] for i in train_idx],
                       [kept[i] for i in test_idx], split, converted, skipped, grey_to_rgb)


def _size(height_width):
    return "x".join(map(str, height_width))


@dataclasses.dataclass
class FolderImages:
    """Every image of a folder for the codec, read on demand: no split, nothing held but the list.

    ``names`` are the files' paths relative to ``directory`` ('/'-separated, sorted as ``image_files``);
    ``sizes`` their ``(height, width)`` as stored; ``modes`` "L" or "RGB" after the loader's conversions;
    ``shape`` ``(H, W, C)`` of what :meth:`read` gives (grey images repeated to RGB when C = 3);
    ``image_size`` the ``(H, W)`` every image was resized to, or None (then all are ``H x W`` as stored);
    ``max_level`` the largest pixel value.
    """

    directory: str
    names: list
    sizes: list
    modes: list
    shape: tuple
    image_size: tuple
    max_level: int
    skipped: list

    def __len__(self):
        return len(self.names)

    def read(self, start, stop):
        """``uint8 (stop - start, H, W, C)``: the images ``start .. stop - 1`` as the loader reads them."""
        out = np.empty((stop - start,) + tuple(self.shape), np.uint8)
        for i in range(start, stop):
            path = os.path.join(self.directory, *self.names[i].split("/"))
            out[i - start] = _read_one(path, self.image_size)[0]  # (H, W, 1) broadcasts to RGB
        return out


def folder_images(directory, shape, image_size=None, skip_bad_files=False):
    """Lists (and reads once, to check) every image under ``directory`` for images of ``shape`` ``(H, W, C)``.

    Without ``image_size`` every image must be ``H x W``; with it, ``image_size`` must be ``(H, W)`` and images of
    another size are resized to it (``_read_one``, Lanczos). A colour image for ``C = 1`` is refused; a grey one
    for ``C = 3`` is read as RGB (its mode stays "L"). Each refusal is one line saying what to do.
    """
    directory = os.fspath(directory)
    height, width, channels = (int(v) for v in shape)
    if not os.path.isdir(directory):
        raise BadDatasetFileError(f"{_show(directory)} is not a folder.")
    if image_size is not None and tuple(image_size) != (height, width):
        raise BadDatasetFileError(f"--image-size {_size(image_size)} is not the size the model codes, "
                                  f"{_size((height, width))}: pass --image-size {_size((height, width))}.")
    paths = image_files(directory)
    if not paths:
        raise _no_images_error(directory)
    names, sizes, modes, skipped, max_level = [], [], [], [], 0
    for path in paths:
        read = _read_or_skip(path, None, skip_bad_files, skipped)
        if read is None:
            continue
        pixels = read[0]
        size = pixels.shape[:2]
        if image_size is None and size != (height, width):
            raise BadDatasetFileError(
                f"{_show(path)} is {_size(size)} (height x width) but the model codes {_size((height, width))} "
                f"images: pass --image-size {_size((height, width))} (image_size=({height}, {width}) in Python) to "
                f"resize every image to it; the file then holds the resized images, and they come back resized.")
        if pixels.shape[2] > channels:
            raise BadDatasetFileError(f"{_show(path)} is a colour image but the model codes grey images "
                                      f"({_size((height, width, channels))}): convert the images to greyscale, or "
                                      f"use a colour model.")
        names.append("/".join(os.path.relpath(path, directory).split(os.sep)))
        sizes.append(tuple(int(v) for v in size))
        modes.append("L" if pixels.shape[2] == 1 else "RGB")
        max_level = max(max_level, int(pixels.max()))
    if not names:
        raise BadDatasetFileError(f"{_show(directory)}: none of its {len(paths)} image files can be read.")
    return FolderImages(directory, names, sizes, modes, (height, width, channels),
                        None if image_size is None else (height, width), max_level, skipped)


def png_names(names):
    """Where each image is written back: its relative name with the extension changed to ``.png`` ("a/b.jpg" ->
    "a/b.png"); when a PNG of the folder or an earlier name already has that name, ``.png`` is added instead
    ("a/b.jpg.png"). A name that would leave the folder (absolute, "..", empty parts) is refused."""
    for name in names:
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in parts):
            raise BadDatasetFileError(f"the file name {name!r} would be written outside the folder; refused.")
    out = {i: name for i, name in enumerate(names) if name.endswith(".png")}  # PNGs keep their names
    taken = set(out.values())
    for i, name in enumerate(names):
        if i not in out:
            plain = os.path.splitext(name)[0] + ".png"
            out[i] = plain if plain not in taken else name + ".png"
            taken.add(out[i])
    if len(taken) != len(names):
        raise BadDatasetFileError("two images would be written to one PNG name; rename one of them.")
    return [out[i] for i in range(len(names))]


def check_output_folder(directory):
    """One line when ``directory`` cannot receive a folder of images: it is a file, or a folder that is not empty."""
    directory = os.fspath(directory)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise BadDatasetFileError(f"{_show(directory)} is a file; give a new or empty folder to write the images to.")
    if os.path.isdir(directory) and os.listdir(directory):
        raise BadDatasetFileError(f"{_show(directory)} exists and is not empty; give a new or empty folder to write "
                                  f"the images to.")


@contextlib.contextmanager
def png_folder(directory):
    """Yields ``write(name, pixels, mode)``, which saves ``uint8 (H, W, C)`` pixels as a lossless PNG at the relative
    ``name`` ('/'-separated) in mode "L" (channel 0) or "RGB". The folder appears whole when the block ends without
    an exception (:func:`vae_tf.atomic_files.atomic_directory`), or not at all."""
    from PIL import Image

    check_output_folder(directory)
    with atomic_directory(directory) as staging:
        def write(name, pixels, mode):
            path = os.path.join(staging, *name.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            plane = pixels[..., 0] if mode == "L" else pixels
            Image.fromarray(np.ascontiguousarray(plane, np.uint8)).save(path, format="PNG")

        yield write
