"""Reference rates for the bits/dim table: classic lossless codecs and a per-pixel-marginal model.

Each number is the size of a file (or an ideal code length) for the same integer test images
the models are scored on, in bits per image value: ``bits/dim = 8 * bytes / (N * H * W * C)``
(C = 1 for grey images, 3 for RGB).

* ``gzip -9``, ``bz2 -9``, ``LZMA -9e``: the whole test set as one byte stream (the images'
  values as stored, C order, one byte each), compressed by the standard library. The
  stream codecs see every image at once and can exploit repeats across images.
* The image codecs (``IMAGE_CODECS``): one file per image, headers and all, the sizes summed,
  as one would store a folder of images; grey images as one channel, RGB as three. Each is
  lossless (the tests decode every codec's files back to the input):

  - ``PNG`` (Pillow): zlib level 9 with ``optimize``; 1-bit when the images are binary and grey.
  - ``WebP lossless`` (Pillow, libwebp): method 4 (``WEBP_METHOD``). On the first 1,000 test
    images, method 6 (its slowest) is larger on CIFAR-10 (4.71 vs 4.62 bits/dim) at ~24x the
    time (54 vs 2.3 ms per image), 0.015 bits/dim smaller on MNIST (45x the time) and 0.13
    smaller on binarized MNIST (0.90 vs 1.03; 27x the time, and JPEG-XL is smaller still).
  - ``JPEG-XL lossless`` (imagecodecs, libjxl): ``lossless=True`` at libjxl's default effort 7
    (``JPEGXL_EFFORT``), a bare codestream (no ISO BMFF container); 1 bit per sample when binary.
  - ``JPEG 2000 lossless`` (imagecodecs, OpenJPEG): ``reversible=True`` (the integer 5/3
    wavelet and reversible colour transform, no rate target), a JP2 file with OpenJPEG's
    default resolutions; 1 bit per sample when binary. Its headers are large for tiny images
    (218 bytes for an all-zero 28x28 image, 2.2 bits/dim of MNIST before any pixel is coded).
  - ``JPEG-LS lossless`` (imagecodecs, CharLS): ``level=0`` (NEAR = 0: lossless); binary
    images as 8-bit levels 0 and 1 (JPEG-LS has no 1-bit samples).

  A codec that cannot code the images gives its row no bits/dim, with the reason (``no_bits_reason``,
  one phrase with the library's error): a reference never stops the comparison. OpenJPEG fails so on
  near-random 1-bit images of 64x64x3 or 128x128 (binarized mid-grey photos): its estimate of a tile's
  coded size is too small (openjpeg issue 1522). imagecodecs writes JPEG 2000 and JPEG-LS into a buffer
  it sizes in advance, too small for incompressible 8-bit images, so they get ``2 * bytes + 4096``.

  All run on one thread, so their ``seconds`` compare. One file per 32x32 RGB image costs from
  ~0.25 ms (JPEG-LS) to a few ms (JPEG-XL, WebP) on a loaded 2-core machine;
  ``reference_rows(max_images_per_codec=n)`` codes only the first ``n`` images with each capped
  image codec and extrapolates their bits/dim (the row says so).
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
from collections.abc import Mapping

import numpy as np

REFERENCE = "reference"
STREAM_CODECS = ("gzip -9", "bz2 -9", "LZMA -9e")
IMAGE_CODECS = ("PNG", "WebP lossless", "JPEG-XL lossless", "JPEG 2000 lossless", "JPEG-LS lossless")
MARGINALS = "per-pixel marginals"
#: Add-``ALPHA`` smoothing of the per-pixel counts (1/2: Krichevsky-Trofimov).
ALPHA = 0.5
#: libwebp's method (0 fastest .. 6 slowest); 4 is smaller and ~24x faster than 6 on CIFAR-10 (module docstring).
WEBP_METHOD = 4
#: libjxl's effort (1 fastest .. 9 slowest; 10 and 11 are slower still); 7 is its default.
JPEGXL_EFFORT = 7

DESCRIPTIONS = {
    "gzip -9": "gzip level 9 on the whole test set as one stream (standard library)",
    "bz2 -9": "bzip2 level 9 on the whole test set as one stream (standard library)",
    "LZMA -9e": "LZMA/xz preset 9 | extreme on the whole test set as one stream (standard library)",
    "PNG": "one PNG file per image, headers included (Pillow, zlib level 9, optimize; 1-bit if binary), sizes summed",
    "WebP lossless": f"one lossless WebP file per image, headers included (Pillow, method {WEBP_METHOD}), sizes summed",
    "JPEG-XL lossless": f"one lossless JPEG-XL file per image, headers included (libjxl via imagecodecs, effort "
                        f"{JPEGXL_EFFORT}), sizes summed",
    "JPEG 2000 lossless": "one lossless JP2 file per image, headers included (OpenJPEG via imagecodecs, reversible "
                          "5/3 wavelet), sizes summed",
    "JPEG-LS lossless": "one lossless JPEG-LS file per image, headers included (CharLS via imagecodecs, NEAR = 0), "
                        "sizes summed",
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
    return arr.astype(np.uint8 if arr.max() < 256 else np.uint16, copy=False)


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


def image_channels(levels):
    """``levels`` ``(N, H, W[, C])`` as ``(N, H, W, C)`` with C 1 (grey) or 3 (RGB), checked for the image codecs."""
    images = levels[..., None] if levels.ndim == 3 else levels
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"image codecs need grey (N, H, W) or (N, H, W, 1) or RGB (N, H, W, 3) images, "
                         f"got shape {levels.shape}.")
    if images.dtype != np.uint8:
        raise ValueError("the image codecs' references need 8-bit levels (below 256).")
    return images


def _pil_bytes(image, binary, codec):
    from PIL import Image

    grey = image.shape[-1] == 1
    pixels = image[..., 0] if grey else image
    # PNG has 1-bit grey but no 1-bit RGB; WebP has no bit depth below 8 (it finds the 2 levels itself).
    picture = Image.fromarray(pixels.astype(bool) if binary and grey and codec == "PNG" else pixels)
    buffer = io.BytesIO()
    if codec == "PNG":
        picture.save(buffer, format="PNG", compress_level=9, optimize=True)
    else:
        picture.save(buffer, format="WEBP", lossless=True, quality=100, method=WEBP_METHOD)
    return buffer.getvalue()


def encode_image(image, codec, binary=False):
    """One ``codec`` file (one of IMAGE_CODECS, with its headers) of one ``(H, W, C)`` uint8 image, as bytes.

    ``binary``: the image holds only 0 and 1; stored 1 bit per sample where the format has it (PNG of grey,
    JPEG-XL, JPEG 2000), else as 8-bit levels 0 and 1 (WebP, JPEG-LS, PNG of RGB).
    """
    if codec in ("PNG", "WebP lossless"):
        return _pil_bytes(image, binary, codec)
    import imagecodecs

    pixels = image[..., 0] if image.shape[-1] == 1 else image  # grey as one 2-D plane
    bits = 1 if binary else None
    # imagecodecs' own output buffer for these two is too small for incompressible images (CharLS:
    # "destination buffer is too small"); a lossless file stays well below twice the raw bytes.
    room = 2 * image.nbytes + 4096
    if codec == "JPEG-XL lossless":
        return imagecodecs.jpegxl_encode(pixels, lossless=True, effort=JPEGXL_EFFORT, bitspersample=bits,
                                          numthreads=1)
    if codec == "JPEG 2000 lossless":
        # reversible: the integer 5/3 wavelet (and integer colour transform), no quantization.
        return imagecodecs.jpeg2k_encode(pixels, reversible=True, bitspersample=bits, numthreads=1, out=room)
    if codec == "JPEG-LS lossless":
        return imagecodecs.jpegls_encode(pixels, level=0, out=room)  # level = NEAR = 0: lossless
    raise ValueError(f"unknown image codec {codec!r}; one of {IMAGE_CODECS}.")


def decode_image(data, codec, channels):
    """The ``(H, W, channels)`` uint8 image in a ``codec`` file from :func:`encode_image` (to check it is lossless)."""
    if codec in ("PNG", "WebP lossless"):
        from PIL import Image

        pixels = np.asarray(Image.open(io.BytesIO(data))).astype(np.uint8)  # a 1-bit PNG reads as bool
    else:
        import imagecodecs

        decoders = {"JPEG-XL lossless": imagecodecs.jpegxl_decode, "JPEG 2000 lossless": imagecodecs.jpeg2k_decode,
                    "JPEG-LS lossless": imagecodecs.jpegls_decode}
        if codec not in decoders:
            raise ValueError(f"unknown image codec {codec!r}; one of {IMAGE_CODECS}.")
        pixels = np.asarray(decoders[codec](data))
    pixels = pixels.reshape(pixels.shape[:2] + (-1,))
    if channels == 1 and pixels.shape[-1] == 3:
        # Pillow decodes every WebP as RGB: a grey image comes back as 3 copies of its one channel.
        if not (np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 0], pixels[..., 2])):
            raise ValueError(f"{codec}: a grey image decoded to unequal colour channels.")
        pixels = pixels[..., :1]
    return pixels


def image_file_bytes(levels, codec, binary=None):
    """Sum over images of the size in bytes of one ``codec`` file (one of IMAGE_CODECS) per image.

    ``binary`` (default: whether ``levels`` holds only 0 and 1) picks 1-bit storage (:func:`encode_image`);
    pass the whole test set's, so that a subset coded alone is stored as the full set would be.
    """
    images = image_channels(levels)
    if binary is None:
        binary = int(images.max()) <= 1
    return sum(len(encode_image(image, codec, binary)) for image in images)


def codec_failure(codec, images, binary, error):
    """Why ``codec`` has no number, in one short phrase: what it failed on and the library's own words."""
    _, height, width, channels = images.shape
    words = " ".join(str(error).split()).replace("|", "/")[:120] or "no message"  # one line, safe in a table cell
    return (f"{codec} failed on {height}x{width}x{channels} {'binary' if binary else '8-bit'} images "
            f"({type(error).__name__}: {words})")


def marginal_bits_per_dim(train_levels, test_levels, num_levels, alpha=ALPHA):
    """Bits/dim of the per-pixel categorical fitted on ``train_levels`` (module docstring)."""
    train = np.asarray(train_levels).reshape(len(train_levels), -1)
    test = np.asarray(test_levels).reshape(len(test_levels), -1)
    if train.shape[1] != test.shape[1]:
        raise ValueError(f"train and test images differ in size: {train.shape[1]} and {test.shape[1]} values.")
    if max(train.max(), test.max()) >= num_levels:
        raise ValueError(f"levels must be below num_levels={num_levels}.")
    d = train.shape[1]
    offsets = np.arange(d, dtype=np.int64) * num_levels
    # Counted a block of images at a time: int64 indices of a whole training set are GBs (CIFAR-10: 1.1 GB each).
    rows = max(1, 2**20 // d)
    counts = np.zeros(d * num_levels, np.int64)
    for start in range(0, len(train), rows):
        counts += np.bincount((train[start:start + rows] + offsets).ravel(), minlength=d * num_levels)
    log2_p = np.log2(counts + alpha) - np.log2(len(train) + alpha * num_levels)
    return float(-np.mean(log2_p[(test + offsets).ravel()]))


def _images_to_code(codec, num_images, max_images_per_codec):
    """How many of the first test images ``codec`` codes: all, unless ``max_images_per_codec`` caps it."""
    if max_images_per_codec is None:
        return num_images
    cap = max_images_per_codec.get(codec) if isinstance(max_images_per_codec, Mapping) else max_images_per_codec
    if cap is None:
        return num_images
    if int(cap) < 1:
        raise ValueError(f"max_images_per_codec must be at least 1, got {cap} for {codec}.")
    return min(int(cap), num_images)


def reference_rows(test_levels, train_levels=None, num_levels=None, table="grey", image_codecs=True,
                   max_images_per_codec=None):
    """One row per reference for the ranked bits/dim table, each marked ``kind = "reference"``.

    Args:
        test_levels: the integer test images the models are scored on, ``(N, H, W[, C])``; the image
            codecs need C = 1 (or no C axis: grey) or C = 3 (RGB) and levels below 256.
        train_levels: integer training images for the per-pixel marginals (row left out if None).
        num_levels: ``L`` (default: ``max + 1`` over train and test).
        table: which ranked table the rows belong to (``"grey"`` or ``"binarized"``).
        image_codecs: include the image codecs (one file per image; slower than the stream codecs):
            True for all of IMAGE_CODECS, False for none, or a sequence of their names.
        max_images_per_codec: None (default: every image codec codes all N images, exact), an int ``n``
            (each image codec codes only the first ``n`` images) or a mapping from image codec name to
            ``n`` (only those codecs capped, e.g. the slow ones). A capped row's bits/dim is the rate of
            the first ``n`` images, ``8 * bytes / (n * H * W * C)``, taken as the whole test set's; its
            ``images_coded`` is ``n`` and its description says "first n of N images".

    Each row: ``kind, table, name, description, bits_per_dim, bits_per_dim_method ("reference"),
    bytes`` (of the files coded; None for the marginals), ``seconds`` (coding time), ``images_coded``
    (how many test images the number is measured on). An image codec that fails on the images (any
    exception of its library) does not raise: its row has ``bits_per_dim``, ``bytes`` and
    ``bits_per_dim_method`` None and ``no_bits_reason`` (:func:`codec_failure`), and ranks last.
    """
    test = as_levels(test_levels)
    num_images, values_per_image = len(test), test[0].size
    rows = []

    def add(name, seconds, bits_per_dim, size=None, images_coded=num_images, no_bits_reason=None):
        description = DESCRIPTIONS[name]
        if images_coded < num_images:
            description += f"; first {images_coded} of {num_images} images, bits/dim extrapolated"
        rows.append({"kind": REFERENCE, "table": table, "name": name, "description": description,
                     "bits_per_dim": None if no_bits_reason else float(bits_per_dim),
                     "bits_per_dim_method": None if no_bits_reason else REFERENCE, "bytes": size,
                     "seconds": seconds, "images_coded": images_coded, "no_bits_reason": no_bits_reason})

    for codec in STREAM_CODECS:
        start = time.perf_counter()
        size = stream_bytes(test, codec)
        add(codec, time.perf_counter() - start, 8.0 * size / test.size, size)
    chosen = IMAGE_CODECS if image_codecs is True else () if image_codecs is False else tuple(image_codecs)
    unknown = [c for c in chosen if c not in IMAGE_CODECS]
    if unknown:
        raise ValueError(f"unknown image codecs {unknown}; choose from {IMAGE_CODECS}.")
    if chosen:
        images = image_channels(test)  # one clear error for a shape or depth the image codecs cannot take
        binary = int(test.max()) <= 1
    for codec in chosen:
        count = _images_to_code(codec, num_images, max_images_per_codec)
        start = time.perf_counter()
        try:
            size = image_file_bytes(images[:count], codec, binary=binary)
        except Exception as error:  # the library's, whatever its class: a reference never stops the run
            add(codec, time.perf_counter() - start, None, None, count, codec_failure(codec, images, binary, error))
            continue
        add(codec, time.perf_counter() - start, 8.0 * size / (count * values_per_image), size, count)
    if train_levels is not None:
        train = as_levels(train_levels)
        levels = int(num_levels) if num_levels is not None else int(max(train.max(), test.max())) + 1
        start = time.perf_counter()
        rate = marginal_bits_per_dim(train, test, levels)
        add(MARGINALS, time.perf_counter() - start, rate)
    return rows
