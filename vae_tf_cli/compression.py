"""``vae-tf compress`` and ``vae-tf decompress``: a VAE as a lossless image codec, from the command line."""

import argparse
import os
import zipfile

from vae_tf_cli.options import (add_image_folder_options, existing_file, images_file_or_folder, keras_file,
                                non_negative_int, positive_int, seed)
from vae_tf_cli.train import load_vae


def add_compression_commands(subparsers):
    p = subparsers.add_parser(
        "compress", help="losslessly compress integer images with a trained VAE (bits-back ANS)",
        description="Bits-back coding with a trained VAE whose decoder gives level probabilities (a discretized "
                    "layer, or IndependentBernoulli for binary images). Prints the file's bits/dim next to the "
                    "model's -ELBO as coded (and, with --compare-iwae K, its IWAE bits/dim on the same images).")
    p.add_argument("model", type=keras_file, help="a .keras file saved from a vae_tf.VAE")
    p.add_argument("images", type=images_file_or_folder,
                   help="a .npz holding integer images (levels 0..L-1, e.g. uint8), or a folder of PNG/JPEG/WebP/BMP "
                        "images: its test split, the images `vae-tf evaluate --data DIR` scores (--key x_train: "
                        "its training split)")
    p.add_argument("out", help="the compressed file to write (atomically)")
    p.add_argument("--key", default=None,
                   help="the array in IMAGES (default: x_test, or the only array); for a folder x_test or x_train")
    add_image_folder_options(p)
    p.add_argument("--latent-bits", type=positive_int, default=None,
                   help="bins of equal prior mass per latent unit, as a power of 2 (default 10)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="images per network pass (default 100)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the initial random bits on the stack")
    _add_k(p)
    p.set_defaults(func=run_compress_command)

    p = subparsers.add_parser("decompress", help="restore the images from a file written by `vae-tf compress`",
                              description="Decodes with the same model and writes the identical array into a .npz.")
    p.add_argument("model", type=keras_file, help="the .keras file the images were compressed with")
    p.add_argument("compressed", type=existing_file, help="a file written by `vae-tf compress`")
    p.add_argument("out", help="the .npz to write (atomically), under the array's original name")
    _add_k(p)
    p.set_defaults(func=run_decompress_command)


def _add_k(p):
    p.add_argument("--compare-iwae", type=non_negative_int, default=0, metavar="K",
                   help="also print the model's IWAE bits/dim with K importance samples on the same images "
                        "(off by default: with K = 100 it takes longer than the coding)")
    p.add_argument("--k", type=non_negative_int, default=None, help=argparse.SUPPRESS)  # the old name: one clear error


def _check_removed_k(args):
    from vae_tf.errors import UserInputError

    if args.k is not None:
        raise UserInputError(f"--k is gone: the IWAE comparison is off by default; use --compare-iwae {args.k} "
                             f"to turn it on.")


#: The arrays of a folder of images that ``compress`` can code: its split as ``vae_tf.data.load_dataset`` reads it.
FOLDER_KEYS = ("x_test", "x_train")


def load_images(path, key=None, image_size=None, skip_bad_files=False):
    """``(name, array)`` from a ``.npz``: ``key``, else ``x_test``, else its only array.

    From a folder of images (:func:`vae_tf.data.read_image_folder`, read with ``image_size`` and
    ``skip_bad_files``): its test split ``x_test`` (the images ``vae-tf evaluate --data DIR``
    scores), or with ``key="x_train"`` its training split; ``uint8 (N, H, W, C)``.
    """
    from vae_tf.errors import BadImagesError
    import numpy as np  # here, not at the top: the parser path stays standard library only

    from vae_tf.data import load_arrays
    from vae_tf.data.sources import not_an_npz_message

    if os.path.isdir(path) or image_size is not None or skip_bad_files:
        # A folder is read, and folder-only options on a file refused, where every command's --data is.
        key = key or "x_test"
        if os.path.isdir(path) and key not in FOLDER_KEYS:
            raise BadImagesError(f"A folder of images gives {' or '.join(FOLDER_KEYS)} (its test or training split), "
                                 f"not --key {key!r}.")
        arrays, _ = load_arrays(None, path, image_size=image_size, skip_bad_files=skip_bad_files, log=print)
        return key, arrays[key]
    if not os.path.isfile(path):
        raise BadImagesError(f"Images file {path!r} does not exist.")
    try:
        wrong_kind = not_an_npz_message(path, expected="a .npz of images", folder_hint="the IMAGES argument")
        if wrong_kind is not None:
            raise BadImagesError(wrong_kind)
        with np.load(path, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise BadImagesError(f"{path!r} is a single .npy array, not a .npz; save it with np.savez.")
            names = list(archive.files)
            if key is None:
                key = "x_test" if "x_test" in names else (names[0] if len(names) == 1 else None)
                if key is None:
                    raise BadImagesError(f"{path!r} holds {', '.join(names) or 'no arrays'}; choose one with --key.")
            elif key not in names:
                raise BadImagesError(f"{path!r} has no array {key!r}; it holds {', '.join(names) or 'nothing'}.")
            return key, archive[key]
    except BadImagesError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise BadImagesError(f"Cannot read {path!r} as a NumPy .npz ({type(err).__name__}: {err}).") from None


def write_output(path, write):
    """:func:`vae_tf.atomic_files.write_atomically`, with a one-line error when the directory does not exist."""
    from vae_tf.errors import UserInputError
    from vae_tf.atomic_files import write_atomically

    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UserInputError(f"Cannot write {path!r}: the directory {directory!r} does not exist.")
    write_atomically(path, write)


def _iwae_bits_per_dim(model, levels, num_levels, k):
    """The model's IWAE bits/dim with ``k`` samples on integer images (the optional comparison)."""
    import numpy as np

    from vae_tf.evaluation import iwae_log_likelihood, nats_to_bits_per_dim

    x = (levels.astype(np.float32) / np.float32(num_levels - 1)).reshape((-1,) + tuple(model.event_shape))
    d = int(np.prod(model.event_shape))
    print(f"Comparing with the model's IWAE bound (k={k}) on {len(x):,} images")
    return float(nats_to_bits_per_dim(np.mean(iwae_log_likelihood(model, x, k=k, verbose=1)), d))


def _print_rates(stats, iwae, k):
    """The file, the -ELBO the coder coded (its own code lengths, no second evaluation), the optional IWAE."""
    print(f"  {'file':<22}{stats.bits_per_dim:.4f} bits/dim")
    print(f"  {'model -ELBO (coded)':<22}{stats.net_bits / stats.num_dims:.4f} bits/dim "
          f"(-log2 P(x|z) - log2 p(z) + log2 Q(z|x), z on the latent bins: the file less its overhead)")
    if iwae is not None:
        print(f"  {f'model IWAE (k={k})':<22}{iwae:.4f} bits/dim")


def run_compress_command(args):
    from vae_tf.errors import BadImagesError, UserInputError
    import numpy as np

    from vae_tf.compression import DEFAULT_BATCH_SIZE, DEFAULT_LATENT_BITS, compress_with_stats

    _check_removed_k(args)
    latent_bits = DEFAULT_LATENT_BITS if args.latent_bits is None else args.latent_bits
    batch_size = DEFAULT_BATCH_SIZE if args.batch_size is None else args.batch_size
    if not 1 <= latent_bits <= 16:
        raise UserInputError(f"--latent-bits must be in 1..16, got {latent_bits}.")
    name, images = load_images(args.images, args.key, image_size=args.image_size, skip_bad_files=args.skip_bad_files)
    model = load_vae(args.model)
    print(f"Compressing {args.images}[{name!r}] {images.shape} {images.dtype} with {args.model}")
    try:
        data, stats = compress_with_stats(model, images, latent_bits=latent_bits, batch_size=batch_size,
                                          seed=args.seed, name=name, verbose=1)
    except BadImagesError as err:
        raise BadImagesError(f"{args.images}[{name!r}]: {err}") from None
    write_output(args.out, lambda f: f.write(data))
    print(f"Wrote {args.out}: {stats.file_bytes} bytes for {stats.count} images ({stats.num_dims} values) in "
          f"{stats.seconds:.1f} s ({1000 * stats.seconds / stats.count:.2f} ms/image)")
    print(f"  overhead: header {stats.header_bytes} bytes, initial random bits {stats.seed_bits}, "
          f"{stats.overhead_bits - 8 * stats.header_bytes - stats.seed_bits:.0f} bits of ANS state and padding"
          + (f"; {stats.passes} passes (the first ones ran short of initial bits)" if stats.passes > 1 else ""))
    iwae = None
    if args.compare_iwae:
        levels = np.asarray(images).reshape((stats.count,) + tuple(model.event_shape))
        iwae = _iwae_bits_per_dim(model, levels, _num_levels(model), args.compare_iwae)
    _print_rates(stats, iwae, args.compare_iwae)
    return 0


def _num_levels(model):
    from vae_tf.compression import coded_levels

    return coded_levels(model.likelihood)


def run_decompress_command(args):
    from vae_tf.errors import CompressedFileError
    import numpy as np

    from vae_tf.compression import decompress_with_stats

    _check_removed_k(args)
    if not os.path.isfile(args.compressed):
        raise CompressedFileError(f"Compressed file {args.compressed!r} does not exist.")
    with open(args.compressed, "rb") as f:
        data = f.read()
    from vae_tf.compression.file_format import unpack

    header = unpack(data, repr(args.compressed))[0]  # a bad file fails here, before TensorFlow loads the model
    model = load_vae(args.model)
    images, stats = decompress_with_stats(model, data, verbose=1, source=repr(args.compressed))
    write_output(args.out, lambda f: np.savez(f, **{header.name: images}))
    print(f"Wrote {args.out}[{header.name!r}]: {images.shape} {images.dtype}, {header.count} images decoded in "
          f"{stats.seconds:.1f} s ({1000 * stats.seconds / header.count:.2f} ms/image); checksums match")
    iwae = None
    if args.compare_iwae:
        levels = images.reshape((header.count,) + tuple(header.event_shape))
        iwae = _iwae_bits_per_dim(model, levels, header.num_levels, args.compare_iwae)
    _print_rates(stats, iwae, args.compare_iwae)
    return 0
