"""Lossless compression of integer images with a trained VAE: bits-back coding over an ANS stack.

Public API::

    compress(model, images, latent_bits=10, batch_size=None, seed=0) -> bytes   (an array, or a folder's path)
    decompress(model, data) -> images           (identical values, dtype and shape)
    compress_with_stats(...) -> (bytes, CodingStats)
    decompress_with_stats(model, data) -> (images, CodingStats)
    decompress_folder(model, data, directory) -> (names, CodingStats)   (a folder's images back as PNGs)
    read_header(data) -> FileHeader

The entropy coder is ``constriction``'s ``AnsCoder``; see ``bits_back`` for the scheme,
``tables`` for how probabilities become the coder's integers, ``file_format`` for
the file.
"""

from vae_tf.compression.bits_back import (CodingStats, DEFAULT_BATCH_SIZE, DEFAULT_LATENT_BITS, coding_batches,
                                          compress, compress_with_stats, decompress, decompress_folder,
                                          decompress_with_stats, default_batch_size, read_header)
from vae_tf.compression.coding_model import coded_levels, model_fingerprint
from vae_tf.compression.file_format import FileHeader

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LATENT_BITS",
    "CodingStats",
    "FileHeader",
    "coding_batches",
    "compress",
    "compress_with_stats",
    "decompress",
    "decompress_folder",
    "decompress_with_stats",
    "default_batch_size",
    "model_fingerprint",
    "coded_levels",
    "read_header",
]
