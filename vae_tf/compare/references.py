"""Reference rates for the bits/dim table: classic lossless codecs and a per-pixel-marginal model.

Each number is the size of a file (or an ideal code length) for the same integer test images
the models are scored on, in bits per image value: ``bits/dim = 8 * bytes / (N * D)``.

* ``gzip -9``, ``bz2 -9``, ``LZMA -9e``: the whole test set as one byte stream (the images'
  values as stored, C order, one byte each), compressed by the standard library. The
  stream codecs see every image at once and can exploit repeats across images.
* ``PNG``, ``WebP lossless``: one file per image (Pillow), the sizes summed, as one would
  store a folder of images. PNG at zlib level 9 with ``optimize``, 1-bit when the images are
  binary; WebP lossless at method 6 (its slowest, smallest setting).
* ``per-pixel marginals``: a model with no latent variable, an independent categorical per
  pixel fitted on the training images with add-1/2 smoothing (the Krichevsky-Trofimov
  estimator, so no level has probability 0)::

      P_d(k) = (n_dk + 1/2) / (N_train + L/2),   bits/dim = -mean_{x, d} log2 P_d(x_d)

  an ideal code length (what an entropy coder would reach to within a few bytes).

:func:`reference_rows` returns them as rows marked ``kind = "reference"`` for the ranked table.
"""

import bz2
import gzip
import io
import lzma
import time

import numpy as np

REFERENCE = "reference"
STREAM_CODECS = ("gzip -9", "bz2 -9", "LZMA -9e")
IMAGE_CODECS = ("PNG", "WebP lossless")
MARGINALS = "per-pixel marginals"
#: Add-``ALPHA`` smoothing of the per-pixel counts (1/2: Krichevsky-Trofimov).
ALPHA = 0.5

_DESCRIPTIONS = {
    "gzip -9": "gzip level 9 on the whole test set as one stream (standard library)",
    "bz2 -9": "bzip2 level 9 on the whole test set as one stream (standard library)",
    "LZMA -9e": "LZMA/xz preset 9 | extreme on the whole test set as one stream (standard library)",
    "PNG": "one PNG per image (Pillow, zlib level 9, optimize), sizes summed",
    "WebP lossless": "one lossless WebP per image (Pillow, method 6), sizes summed",
    MARGINALS: "independent categorical per pixel fitted on the training set (add-1/2 smoothing); no latent",
}


def as_levels(images):
    """Integer images ``(N, H, W[, C])`` as the smallest unsigned dtype that holds them, checked."""
    arr = np.asarray(images)
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.rint(arr)):
            raise ValueError(f"reference codecs need integer levels, got non-integer values of dtype {arr.dtype}.")
    if arr.ndim < 3 or arr.shape[0] == 0:
        raise ValueError(f"need a batch of images (N, H, W[, C]), got shape {arr.shape}.")
    if arr.min() < 0:
        raise ValueError(f"levels must be >= 0, got {arr.min()}.")
    return arr.astype(np.uint8 if arr.max() < 256 else np.uint16)


def stream_bytes(levels, codec):
    """Size in bytes of the whole array compressed as one stream by ``codec`` (one of STREAM_CODECS)."""
    data = np.ascontiguousarray(levels).tobytes()
    if codec == "gzip -9":
        return len(gzip.compress(data, compresslevel=9, mtime=0))
    if codec == "bz2 -9":
        return len(bz2.compress(data, compresslevel=9))
    if codec == "LZMA -9e":
        return len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    raise ValueError(f"unknown stream codec {codec!r}; one of {STREAM_CODECS}.")


def _pil_image(image, binary):
    from PIL import Image

    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if binary:
        return Image.fromarray(image.astype(bool))
    if image.dtype != np.uint8:
        raise ValueError("PNG/WebP references need levels below 256.")
    return Image.fromarray(image)


def image_file_bytes(levels, codec):
    """Sum over images of the size of one ``codec`` file (one of IMAGE_CODECS) per image."""
    binary = int(levels.max()) <= 1
    total = 0
    for image in levels:
        buffer = io.BytesIO()
        picture = _pil_image(image, binary)
        if codec == "PNG":
            picture.save(buffer, format="PNG", compress_level=9, optimize=True)
        elif codec == "WebP lossless":
            picture.save(buffer, format="WEBP", lossless=True, quality=100, method=6)
        else:
            raise ValueError(f"unknown image codec {codec!r}; one of {IMAGE_CODECS}.")
        total += buffer.tell()
    return total


def marginal_bits_per_dim(train_levels, test_levels, num_levels, alpha=ALPHA):
    """Bits/dim of the per-pixel categorical fitted on ``train_levels`` (module docstring)."""
    train = np.asarray(train_levels).reshape(len(train_levels), -1).astype(np.int64)
    test = np.asarray(test_levels).reshape(len(test_levels), -1).astype(np.int64)
    if train.shape[1] != test.shape[1]:
        raise ValueError(f"train and test images differ in size: {train.shape[1]} and {test.shape[1]} values.")
    if max(train.max(), test.max()) >= num_levels:
        raise ValueError(f"levels must be below num_levels={num_levels}.")
    d = train.shape[1]
    offsets = np.arange(d, dtype=np.int64) * num_levels
    counts = np.bincount((train + offsets).ravel(), minlength=d * num_levels).reshape(d, num_levels)
    log2_p = np.log2(counts + alpha) - np.log2(len(train) + alpha * num_levels)
    return float(-np.mean(log2_p.ravel()[(test + offsets).ravel()]))


def reference_rows(test_levels, train_levels=None, num_levels=None, table="grey", image_codecs=True):
    """One row per reference for the ranked bits/dim table, each marked ``kind = "reference"``.

    Args:
        test_levels: the integer test images the models are scored on, ``(N, H, W[, C])``.
        train_levels: integer training images for the per-pixel marginals (row left out if None).
        num_levels: ``L`` (default: ``max + 1`` over train and test).
        table: which ranked table the rows belong to (``"grey"`` or ``"binarized"``).
        image_codecs: include PNG and WebP (one file per image; slower than the stream codecs).

    Each row: ``kind, table, name, description, bits_per_dim, bits_per_dim_method ("reference"),
    bytes`` (None for the marginals), ``seconds``.
    """
    test = as_levels(test_levels)
    num_dims = test.size
    rows = []

    def add(name, seconds, bits_per_dim, size=None):
        rows.append({"kind": REFERENCE, "table": table, "name": name, "description": _DESCRIPTIONS[name],
                     "bits_per_dim": float(bits_per_dim), "bits_per_dim_method": REFERENCE, "bytes": size,
                     "seconds": seconds})

    for codec in STREAM_CODECS:
        start = time.perf_counter()
        size = stream_bytes(test, codec)
        add(codec, time.perf_counter() - start, 8.0 * size / num_dims, size)
    if image_codecs:
        for codec in IMAGE_CODECS:
            start = time.perf_counter()
            size = image_file_bytes(test, codec)
            add(codec, time.perf_counter() - start, 8.0 * size / num_dims, size)
    if train_levels is not None:
        train = as_levels(train_levels)
        levels = int(num_levels) if num_levels is not None else int(max(train.max(), test.max())) + 1
        start = time.perf_counter()
        rate = marginal_bits_per_dim(train, test, levels)
        add(MARGINALS, time.perf_counter() - start, rate)
    return rows
