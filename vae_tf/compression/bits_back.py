"""Bits-back coding with asymmetric numeral systems (BB-ANS; Townsend, Bird & Barber, 2019).

A VAE gives an image ``x`` of ``D`` integer levels the code length of its negative ELBO:
with the latent ``z`` discretised into bins ``i`` of equal prior mass ``1/N`` (``N = 2^bits``),

    bits(x) = -log2 P(x | z_i) - log2 (1/N) + log2 Q(i | x),     i ~ Q(. | x)

where ``Q`` is ``q(z|x)`` integrated over the bins and every probability is the 24-bit
integer ratio the coder uses (``quantization``). Per batch of images, on one ANS stack:

    compress:   i <- pop under Q(.|x)      (takes bits back from the stack)
                push x under P(x | z_i)    (one categorical over L levels per value)
                push i under uniform(N)    (the prior)
    decompress: in reverse batch order, pop i (uniform), pop x under P(x|z_i),
                push i back under Q(.|x), which restores the stack the compressor popped from.

The first pops need bits on the stack: it starts with ``seed_words`` random 32-bit words
(about the expected ``-log2 Q`` of the first batch, plus 64 bits), and batches grow
1, 2, 4, ... up to ``batch_size`` so that each batch pops fewer bits than the images before
it pushed. Those seed words are the start-up overhead; they are left on the stack when the
last image is decoded, and the decompressor checks that they are exactly what it expects.

Each batch is one encoder pass, one decoder pass and three vectorised ``constriction``
calls (each one 2-D table of integer weights, one row per latent or sub-pixel); no Python loop
runs over pixels or latents. A decoder with coupled colour channels
(``CodingModel.channels_coupled``) codes a batch's R values, then its G values, then its B
values: three decoder passes and three pixel calls per batch on both sides, channel ``c``
given the channels ``< c`` (the compressor knows them, the decompressor has decoded them).

The coder's own code lengths are the negative ELBO with ``z`` on the bins
(:class:`CodingStats`): ``compress`` and ``decompress`` report it without a separate evaluation.

What is coded, an array or every image of a folder, is read a batch at a time (``coded_images``); the
decompressor hands each decoded batch on (into an array, or as PNG files into a new folder) and keeps
nothing else, so memory follows the batch (:func:`default_batch_size`), not the number of images.
"""

import dataclasses
import math
import time

import constriction
import numpy as np

from vae_tf.errors import CompressedFileError, check_positive_int
from vae_tf.compression import file_format
from vae_tf.compression.coding_model import CodingModel, coded_levels, model_fingerprint
from vae_tf.compression.tables import coded_entropy_bits, coded_log2_probabilities
from vae_tf.compression.coded_images import images_to_code
from vae_tf.data.image_folder import png_folder, png_names
from vae_tf.evaluation.estimators import PARAMETER_BUDGET
from vae_tf.long_jobs import RemainingTime

#: Each latent is coded in ``2 ** latent_bits`` bins of equal prior mass.
DEFAULT_LATENT_BITS = 10
#: The most images per coding batch (:func:`default_batch_size` takes fewer of large images); the first
#: batches ramp up 1, 2, 4, ... so the initial bits stay few.
DEFAULT_BATCH_SIZE = 100
#: Words kept on the stack beyond the expected pop: the ANS head holds 64 bits.
_SPARE_WORDS = 2
#: Compression passes after the first when the seed words were too few (see compress_with_stats).
_MAX_EXTRA_PASSES = 3


@dataclasses.dataclass
class CodingStats:
    """Where the bits of a compressed file went.

    ``pixel_bits = sum -log2 P(x | z)``, ``prior_bits = sum -log2 (1/N)`` (``latent_bits`` per
    latent value) and ``posterior_bits = sum -log2 Q(z | x)`` (the bits taken back), each over
    the coded symbols with the coder's own probabilities. Their balance ``net_bits`` is what
    the images cost; the rest of the file (``overhead_bits``) is the header, the seed words
    and the ANS stack's final state and word padding.
    """

    count: int
    num_dims: int
    file_bytes: int
    header_bytes: int
    payload_bits: int
    seed_bits: int
    pixel_bits: float
    prior_bits: float
    posterior_bits: float
    seconds: float
    passes: int = 1

    @property
    def net_bits(self):
        return self.pixel_bits + self.prior_bits - self.posterior_bits

    @property
    def bits_per_dim(self):
        """The whole file, header included, in bits per image value."""
        return 8.0 * self.file_bytes / self.num_dims

    @property
    def overhead_bits(self):
        return 8 * self.file_bytes - self.net_bits


def coding_batches(count, batch_size):
    """``(start, stop)`` of each coding batch: sizes 1, 2, 4, ... up to ``batch_size``, then ``batch_size``."""
    out, start, size = [], 0, 1
    while start < count:
        stop = min(count, start + size)
        out.append((start, stop))
        start, size = stop, min(2 * size, batch_size)
    return out


def default_batch_size(model):
    """Images per coding batch when none is given: ``min(DEFAULT_BATCH_SIZE, PARAMETER_BUDGET // (D * L))``, at
    least 1. A batch's level tables hold ``D x L`` floats per image (and the decoder's per-level work as many
    again): 100 MNIST images, 42 of CIFAR-10, 10 of 64x64x3 (100 of those took 4.5 GB)."""
    per_image = int(np.prod(model.event_shape)) * coded_levels(model.likelihood)
    return int(max(1, min(DEFAULT_BATCH_SIZE, PARAMETER_BUDGET // per_image)))


def seed_words(seed, count):
    """The stack's initial words: ``count`` uniform nonzero uint32 from ``numpy.random.default_rng(seed)``."""
    return np.random.default_rng(seed).integers(1, 2**32, size=count, dtype=np.uint64).astype(np.uint32)


def _pixel_symbols(coding, z, x):
    """``(weights, symbols)`` of a batch's sub-pixels in the order the decompressor pops them.

    Independent values: all at once in C order. Coupled channels: all the R values, then all G,
    then all B (``channel_weights``, each channel given the ones before).
    """
    if not coding.channels_coupled:
        return coding.pixel_weights(z), x.reshape(-1)
    channels = range(coding.num_channels)
    weights = np.concatenate([coding.channel_weights(z, x, c) for c in channels])
    return weights, np.concatenate([x[..., c].reshape(-1) for c in channels])


def _decode_pixels(coder, categorical, coding, z):
    """``(levels (rows, *event_shape), pixel bits)`` popped from ``coder``: the inverse of ``_pixel_symbols``."""
    shape = (len(z),) + coding.event_shape
    if not coding.channels_coupled:
        weights = coding.pixel_weights(z)
        symbols = coder.decode(categorical, weights)
        return symbols.reshape(shape), -float(np.sum(coded_log2_probabilities(weights, symbols)))
    x = np.zeros(shape, np.int32)
    bits = 0.0
    for c in range(coding.num_channels):
        weights = coding.channel_weights(z, x, c)
        symbols = coder.decode(categorical, weights)
        x[..., c] = symbols.reshape(shape[:-1])
        bits -= float(np.sum(coded_log2_probabilities(weights, symbols)))
    return x, bits


@dataclasses.dataclass
class _EncodePass:
    payload: np.ndarray
    pixel_bits: float
    prior_bits: float
    posterior_bits: float
    shortfall_bits: float
    images_sha256: str


def _encode(coding, images, batches, first_posterior, initial_words, verbose):
    """One compression pass over ``images`` (a :class:`~vae_tf.compression.coded_images.CodedImages`, read batch
    by batch) on a stack that starts with ``initial_words``."""
    categorical = constriction.stream.model.Categorical(perfect=False)
    prior = constriction.stream.model.Uniform(coding.bins.count)
    coder = constriction.stream.stack.AnsCoder(initial_words)
    pixel_bits = prior_bits = posterior_bits = shortfall = 0.0
    digest = file_format.ImagesDigest(images.dtype, images.shape, len(batches))
    progress = RemainingTime(images.count, f"Coding {images.count:,} images", warmup=0, bar=True) if verbose else None
    for index, (lo, hi) in enumerate(batches):
        batch = images.read(lo, hi)
        digest.add(index, batch)
        x = batch.astype(np.int32)
        posterior = first_posterior if index == 0 else coding.posterior_weights(x)
        shortfall = max(shortfall, coded_entropy_bits(posterior) - coder.num_valid_bits())
        z = coder.decode(categorical, posterior)
        posterior_bits -= float(np.sum(coded_log2_probabilities(posterior, z)))
        pixels, symbols = _pixel_symbols(coding, z.reshape(hi - lo, coding.latent_dim), x)
        coder.encode_reverse(symbols, categorical, pixels)
        pixel_bits -= float(np.sum(coded_log2_probabilities(pixels, symbols)))
        coder.encode_reverse(z, prior)
        prior_bits += float(coding.bins.bits * z.size)
        if progress is not None:
            progress.done(hi - lo)
    return _EncodePass(coder.get_compressed(), pixel_bits, prior_bits, posterior_bits, shortfall, digest.hexdigest())


def compress_with_stats(model, images, latent_bits=DEFAULT_LATENT_BITS, batch_size=None, seed=0, name="x_test",
                        verbose=0):
    """``(bytes, CodingStats)``: the images coded with bits-back ANS (see :func:`compress`)."""
    start_time = time.perf_counter()
    batch_size = default_batch_size(model) if batch_size is None else check_positive_int(batch_size, "batch_size")
    coding = CodingModel.for_model(model, latent_bits, batch_size)
    images = images_to_code(images, coding)
    batches = coding_batches(images.count, int(batch_size))
    if verbose:
        coding.warm_up()  # compile before the first batch is timed for the estimate

    first_posterior = coding.posterior_weights(images.read(0, batches[0][1]))
    num_seed_words = math.ceil(coded_entropy_bits(first_posterior) / 32) + _SPARE_WORDS
    pass_ = _encode(coding, images, batches, first_posterior, seed_words(seed, num_seed_words), verbose)
    passes = 1
    for _ in range(_MAX_EXTRA_PASSES):
        if pass_.shortfall_bits <= 0:
            break
        passes += 1
        # A batch expected to pop more bits than the stack held (when an image costs fewer
        # bits than its posterior's entropy, e.g. small images with unused latents, the
        # 1, 2, 4, ... ramp outruns the stack): popped from a near-empty stack, z is no longer
        # a draw from q and those bits are not got back. Start again with more seed words.
        num_seed_words += math.ceil(pass_.shortfall_bits / 32) + _SPARE_WORDS
        pass_ = _encode(coding, images, batches, first_posterior, seed_words(seed, num_seed_words), verbose)
    payload = pass_.payload

    header = file_format.FileHeader(
        shape=images.shape, dtype=images.dtype.str, count=images.count, num_levels=coding.num_levels,
        event_shape=coding.event_shape, latent_dim=coding.latent_dim, likelihood=type(model.likelihood).__name__,
        model_fingerprint=model_fingerprint(model), images_sha256=pass_.images_sha256,
        latent_bits=coding.bins.bits, batch_size=int(batch_size), seed=int(seed), seed_words=num_seed_words,
        payload_words=0, payload_sha256="", name=None if images.files else str(name), files=images.files,
        image_size=images.image_size)
    data = file_format.pack(header, payload)
    stats = CodingStats(
        count=images.count, num_dims=images.count * coding.event_size, file_bytes=len(data),
        header_bytes=file_format.header_size(data), payload_bits=32 * len(payload), seed_bits=32 * num_seed_words,
        pixel_bits=pass_.pixel_bits, prior_bits=pass_.prior_bits, posterior_bits=pass_.posterior_bits,
        seconds=time.perf_counter() - start_time, passes=passes)
    return data, stats


def compress(model, images, latent_bits=DEFAULT_LATENT_BITS, batch_size=None, seed=0, name="x_test", verbose=0):
    """Lossless bits-back compression of integer images with a trained VAE; returns the file's bytes.

    Args:
        model: a :class:`vae_tf.VAE` whose likelihood gives level probabilities: one of the
            discretized layers, or ``IndependentBernoulli`` for binary images.
        images: integer levels ``0..L-1`` as a dataset stores them (e.g. ``uint8``), of shape
            ``(*batch, *event_shape)``; a trailing channel axis of 1 may be left out. Or a folder of images: its
            path (every image in it, which must all have the model's size), or
            ``vae_tf.data.folder_images(path, model.event_shape, image_size=...)``; the file then holds each
            image's relative name, size and mode, read batch by batch (:func:`decompress_folder` writes them back).
        latent_bits: each latent unit is coded as one of ``2^latent_bits`` bins of equal prior mass.
        batch_size: images per encoder/decoder pass (the decompressor uses the same batches); default
            :func:`default_batch_size`.
        seed: seed of the initial random words on the stack.
        name: stored in the header (the ``.npz`` key ``vae-tf decompress`` writes).
        verbose: 1 shows a progress bar.

    The file's size is about ``sum_x -ELBO(x)`` in bits (with ``z`` on the bins) plus the
    overhead in :class:`CodingStats`. :func:`decompress` with the same model returns the
    identical array.
    """
    return compress_with_stats(model, images, latent_bits=latent_bits, batch_size=batch_size, seed=seed, name=name,
                               verbose=verbose)[0]


def read_header(data, source="the data"):
    """The :class:`~vae_tf.compression.file_format.FileHeader` of a compressed file (checked in full)."""
    return file_format.unpack(data, source)[0]


def decompress(model, data, verbose=0, source="the data"):
    """The images :func:`compress` coded in ``data``: identical values, dtype and shape (a folder's: ``uint8
    (count, H, W, C)``, as coded).

    Raises :class:`vae_tf.errors.CompressedFileError` (one line) when ``data`` is not a
    vae-tf file, is truncated or corrupt, was written with another model, or does not decode
    to its checksum; nothing is returned in those cases.
    """
    return decompress_with_stats(model, data, verbose=verbose, source=source)[0]


def decompress_with_stats(model, data, verbose=0, source="the data"):
    """``(images, CodingStats)``: :func:`decompress`, and the code lengths of what it popped and pushed back.

    The stats are those :func:`compress_with_stats` reported for the same file (the same integer
    weights, the same symbols), so the coded -ELBO needs no separate evaluation.
    """
    header, words = file_format.unpack(data, source)
    images = np.empty((header.count,) + tuple(header.event_shape), np.dtype(header.dtype))

    def put(start, stop, levels):
        images[start:stop] = levels

    stats = _decode(model, data, header, words, source, verbose, put)
    return images.reshape(header.shape), stats


def decompress_folder(model, data, directory, verbose=0, source="the data"):
    """``(names, CodingStats)``: writes the images of a file made from a folder into ``directory`` (new or empty) as
    lossless PNGs, each at its relative name with the extension changed to ``.png``
    (``vae_tf.data.image_folder.png_names``), grey or RGB as it was read, batch by batch as decoded. The folder
    appears only when every image decoded to the file's checksum (``vae_tf.data.image_folder.png_folder``)."""
    header, words = file_format.unpack(data, source)
    if header.files is None:
        raise CompressedFileError(f"{source} holds an array of images ({header.name!r}), not a folder: decompress "
                                  f"it to a .npz.")
    if len(header.files) != header.count:
        raise CompressedFileError(f"{source} names {len(header.files)} files for {header.count} images.")
    names = png_names([entry[0] for entry in header.files])
    modes = [entry[3] for entry in header.files]
    with png_folder(directory) as write:
        def put(start, stop, levels):
            for i in range(start, stop):
                write(names[i], levels[i - start], modes[i])

        stats = _decode(model, data, header, words, source, verbose, put)
    return names, stats


def _decode(model, data, header, words, source, verbose, put):
    """Decodes the file's batches, last to first, handing each to ``put(start, stop, levels)`` (in the header's
    dtype); checks the seed words and the images' digest at the end, and returns the :class:`CodingStats`."""
    start_time = time.perf_counter()
    fingerprint = model_fingerprint(model)
    if fingerprint != header.model_fingerprint:
        raise CompressedFileError(
            f"{source} was compressed with another model (weights fingerprint {header.model_fingerprint}, "
            f"this model's is {fingerprint}); decompress it with the model that wrote it.")
    coding = CodingModel.for_model(model, header.latent_bits, header.batch_size)
    if coding.num_levels != header.num_levels or coding.event_shape != header.event_shape:
        raise CompressedFileError(f"{source} holds {header.num_levels}-level images of shape {header.event_shape}; "
                                  f"the model codes {coding.num_levels} levels of shape {coding.event_shape}.")
    categorical = constriction.stream.model.Categorical(perfect=False)
    prior = constriction.stream.model.Uniform(coding.bins.count)
    try:
        coder = constriction.stream.stack.AnsCoder(words)
    except Exception as err:  # constriction rejects e.g. a stack ending in a zero word
        raise CompressedFileError(f"{source} has an invalid ANS stack ({err}).") from None
    if verbose:
        coding.warm_up()
    batches = coding_batches(header.count, header.batch_size)
    digest = file_format.ImagesDigest(header.dtype, header.shape, len(batches))
    progress = RemainingTime(header.count, f"Decoding {header.count:,} images", warmup=0, bar=True) if verbose else None
    pixel_bits = posterior_bits = 0.0
    for index in reversed(range(len(batches))):
        lo, hi = batches[index]
        z = coder.decode(prior, (hi - lo) * coding.latent_dim)
        x, bits = _decode_pixels(coder, categorical, coding, z.reshape(hi - lo, coding.latent_dim))
        pixel_bits += bits
        levels = x.astype(np.dtype(header.dtype))
        digest.add(index, levels)
        put(lo, hi, levels)
        posterior = coding.posterior_weights(x)
        coder.encode_reverse(z, categorical, posterior)
        posterior_bits -= float(np.sum(coded_log2_probabilities(posterior, z)))
        if progress is not None:
            progress.done(hi - lo)
    left = coder.get_compressed()
    if not np.array_equal(left, seed_words(header.seed, header.seed_words)):
        raise CompressedFileError(
            f"{source} did not decode to its seed words: the model computed other probabilities than when the "
            f"file was written (another TensorFlow build, CPU or thread setting?).")
    if digest.hexdigest() != header.images_sha256:
        raise CompressedFileError(f"{source} decoded to images that do not match the checksum in its header.")
    return CodingStats(
        count=header.count, num_dims=header.count * coding.event_size, file_bytes=len(data),
        header_bytes=file_format.header_size(data), payload_bits=32 * header.payload_words,
        seed_bits=32 * header.seed_words, pixel_bits=pixel_bits,
        prior_bits=float(coding.bins.bits * header.count * coding.latent_dim), posterior_bits=posterior_bits,
        seconds=time.perf_counter() - start_time)
