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
                        "images: every image in it and its subfolders, read a batch at a time; the file keeps each "
                        "one's relative name, size and mode, and `decompress` writes the folder back as PNGs")
    p.add_argument("out", help="the compressed file to write (atomically)")
    p.add_argument("--key", default=None, help="the array in a .npz IMAGES (default: x_test, or the only array)")
    add_image_folder_options(p)
    p.add_argument("--latent-bits", type=positive_int, default=None,
                   help="bins of equal prior mass per latent unit, as a power of 2 (default 10)")
    p.add_argument("--batch-size", type=positive_int, default=None,
                   help="images per network pass (default: 100, fewer for large images so that a batch's level "
                        "tables stay small)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the initial random bits on the stack")
    _add_k(p)
    p.set_defaults(func=run_compress_command)

    p = subparsers.add_parser("decompress", help="restore the images from a file written by `vae-tf compress`",
                              description="Decodes with the same model and writes the identical array into a .npz, "
                                          "or a compressed folder back as a folder of PNGs.")
    p.add_argument("model", type=keras_file, help="the .keras file the images were compressed with")
    p.add_argument("compressed", type=existing_file, help="a file written by `vae-tf compress`")
    p.add_argument("out", help="the .npz to write (atomically), under the array's original name; for a compressed "
                               "folder, the folder (new or empty) to write its images to: lossless PNGs under their "
                               "relative names with the extension changed to .png")
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


def load_images(path, key=None):
    """``(name, array)`` from a ``.npz``: ``key``, else ``x_test``, else its only array."""
    from vae_tf.errors import BadImagesError
    import numpy as np  # here, not at the top: the parser path stays standard library only

    from vae_tf.data.sources import not_an_npz_message

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


def _folder_to_code(args, model):
    """The folder's images for the model (``vae_tf.data.folder_images``), and one line saying what they are."""
    from vae_tf.errors import BadImagesError
    from vae_tf.data import folder_images

    if args.key is not None:
        raise BadImagesError(f"--key picks an array of a .npz; the folder {args.images!r} is compressed whole.")
    folder = folder_images(args.images, model.event_shape, image_size=args.image_size,
                           skip_bad_files=args.skip_bad_files)
    h, w, c = folder.shape
    first_skipped = os.path.relpath(folder.skipped[0][0], args.images) if folder.skipped else None
    notes = [f"resized to {h}x{w} where they were not" if folder.image_size else None,
             f"{folder.modes.count('L')} grey ones as RGB" if c == 3 and "L" in folder.modes else None,
             f"skipped {len(folder.skipped)} unreadable (first: {first_skipped!r})" if folder.skipped else None]
    described = f"{len(folder)} images of {h}x{w}x{c}" + "".join(f"; {n}" for n in notes if n)
    return folder, described


def write_output(path, write):
    """:func:`vae_tf.atomic_files.write_atomically`, with a one-line error when the directory does not exist."""
    from vae_tf.errors import UserInputError
    from vae_tf.atomic_files import write_atomically

    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UserInputError(f"Cannot write {path!r}: the directory {directory!r} does not exist.")
    write_atomically(path, write)


def _iwae_bits_per_dim(model, read, count, num_levels, k):
    """The model's IWAE bits/dim with ``k`` samples on ``count`` integer images, ``read(start, stop)`` a batch at a
    time (the optional comparison)."""
    import numpy as np

    from vae_tf.evaluation import iwae_log_likelihood, nats_to_bits_per_dim

    d = int(np.prod(model.event_shape))
    print(f"Comparing with the model's IWAE bound (k={k}) on {count:,} images")
    total, step = 0.0, 100
    for start in range(0, count, step):
        levels = np.asarray(read(start, min(count, start + step)))
        x = (levels.astype(np.float32) / np.float32(num_levels - 1)).reshape((-1,) + tuple(model.event_shape))
        total += float(np.sum(iwae_log_likelihood(model, x, k=k, verbose=0)))
    return float(nats_to_bits_per_dim(total / count, d))


def _print_rates(stats, iwae, k):
    """The file, the -ELBO the coder coded (its own code lengths, no second evaluation), the optional IWAE."""
    print(f"  {'file':<22}{stats.bits_per_dim:.4f} bits/dim")
    print(f"  {'model -ELBO (coded)':<22}{stats.net_bits / stats.num_dims:.4f} bits/dim "
          f"(-log2 P(x|z) - log2 p(z) + log2 Q(z|x), z on the latent bins: the file less its overhead)")
    if iwae is not None:
        print(f"  {f'model IWAE (k={k})':<22}{iwae:.4f} bits/dim")


def run_compress_command(args):
    from vae_tf.errors import BadImagesError, UserInputError

    from vae_tf.compression import DEFAULT_LATENT_BITS, compress_with_stats

    _check_removed_k(args)
    latent_bits = DEFAULT_LATENT_BITS if args.latent_bits is None else args.latent_bits
    if not 1 <= latent_bits <= 16:
        raise UserInputError(f"--latent-bits must be in 1..16, got {latent_bits}.")
    if os.path.isdir(args.images):
        model = load_vae(args.model)  # first: the folder is read for the model's image shape
        images, described = _folder_to_code(args, model)
        name, where = None, args.images
    else:
        if args.image_size is not None or args.skip_bad_files:
            raise UserInputError(f"--image-size and --skip-bad-files apply to a folder of images, not to the file "
                                 f"{args.images!r}.")
        name, images = load_images(args.images, args.key)
        model = load_vae(args.model)
        described, where = f"{images.shape} {images.dtype}", f"{args.images}[{name!r}]"
    print(f"Compressing {where} ({described}) with {args.model}")
    try:
        data, stats = compress_with_stats(model, images, latent_bits=latent_bits, batch_size=args.batch_size,
                                          seed=args.seed, name=name or "x_test", verbose=1)
    except BadImagesError as err:
        raise BadImagesError(f"{where}: {err}") from None
    write_output(args.out, lambda f: f.write(data))
    print(f"Wrote {args.out}: {stats.file_bytes} bytes for {stats.count} images ({stats.num_dims} values) in "
          f"{stats.seconds:.1f} s ({1000 * stats.seconds / stats.count:.2f} ms/image)")
    print(f"  overhead: header {stats.header_bytes} bytes, initial random bits {stats.seed_bits}, "
          f"{stats.overhead_bits - 8 * stats.header_bytes - stats.seed_bits:.0f} bits of ANS state and padding"
          + (f"; {stats.passes} passes (the first ones ran short of initial bits)" if stats.passes > 1 else ""))
    iwae = None
    if args.compare_iwae:
        if name is None:
            read = images.read
        else:
            levels = images.reshape((stats.count,) + tuple(model.event_shape))
            read = lambda start, stop: levels[start:stop]  # noqa: E731
        iwae = _iwae_bits_per_dim(model, read, stats.count, _num_levels(model), args.compare_iwae)
    _print_rates(stats, iwae, args.compare_iwae)
    return 0


def _num_levels(model):
    from vae_tf.compression import coded_levels

    return coded_levels(model.likelihood)


def run_decompress_command(args):
    from vae_tf.errors import CompressedFileError
    import numpy as np

    from vae_tf.compression import decompress_folder, decompress_with_stats
    from vae_tf.compression.file_format import unpack
    from vae_tf.data.image_folder import check_output_folder, folder_images

    _check_removed_k(args)
    if not os.path.isfile(args.compressed):
        raise CompressedFileError(f"Compressed file {args.compressed!r} does not exist.")
    with open(args.compressed, "rb") as f:
        data = f.read()
    source = repr(args.compressed)
    header = unpack(data, source)[0]  # a bad file fails here, before TensorFlow loads the model
    if header.files is not None:
        if args.out.lower().endswith(".npz"):
            raise CompressedFileError(f"{source} holds a folder of {header.count} images: give a folder to write "
                                      f"them to as PNGs, not {args.out!r}.")
        check_output_folder(args.out)  # as early: not after minutes of decoding
        model = load_vae(args.model)
        names, stats = decompress_folder(model, data, args.out, verbose=1, source=source)
        resized = f", resized to {'x'.join(map(str, header.image_size))}" if header.image_size else ""
        print(f"Wrote {args.out}: {len(names)} PNG images under their relative names{resized}, decoded in "
              f"{stats.seconds:.1f} s ({1000 * stats.seconds / header.count:.2f} ms/image); checksums match")
        read = folder_images(args.out, model.event_shape).read if args.compare_iwae else None
    else:
        model = load_vae(args.model)
        images, stats = decompress_with_stats(model, data, verbose=1, source=source)
        write_output(args.out, lambda f: np.savez(f, **{header.name: images}))
        print(f"Wrote {args.out}[{header.name!r}]: {images.shape} {images.dtype}, {header.count} images decoded in "
              f"{stats.seconds:.1f} s ({1000 * stats.seconds / header.count:.2f} ms/image); checksums match")
        levels = images.reshape((header.count,) + tuple(header.event_shape))
        read = lambda start, stop: levels[start:stop]  # noqa: E731
    iwae = None
    if args.compare_iwae:
        iwae = _iwae_bits_per_dim(model, read, header.count, header.num_levels, args.compare_iwae)
    _print_rates(stats, iwae, args.compare_iwae)
    return 0
