"""`vae-tf compress` on a whole test set against the classic codecs, measured in one run.

For each dataset: train a VAE for a wall-clock budget, then compress and decompress the whole
test set with bits-back ANS (checked bit for bit), and print one table: the file's bits/dim,
the model's -ELBO and IWAE bits/dim on the same images, gzip / bz2 / LZMA (one stream), PNG,
lossless WebP, JPEG-XL, JPEG 2000 and JPEG-LS (one file per image), the per-pixel marginals,
and the compress and decompress times.

The model is the grey-level configuration that ranks first in `vae-tf compare` on MNIST: an MLP
VAE, 200-200 hidden units each way, 16 latents, a softmax over the L levels of every pixel
(``vae_tf.layers.IndependentCategorical``), Adam at 1e-3, batches of 100, trained on ``x = k / (L - 1)``
until ``--minutes`` run out. ``--decoder logistic_mixture`` (with ``--components``) takes the
runner-up, a per-pixel mixture of discretized logistics.

    python benchmarks/compression.py --minutes 15                         # MNIST and Fashion-MNIST
    python benchmarks/compression.py --datasets digits --minutes 0.1 --k 5  # smoke test (seconds)

Datasets come from ``vae_tf.data.load_arrays``: ``$VAE_TF_DATA_DIR/<name>.npz`` or a download.
"""

import argparse
import json
import math
import os
import sys
import time

# Run as a script (`python benchmarks/compression.py`): make `benchmarks` and `vae_tf` importable.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="mnist,fashion_mnist", help="comma-separated: mnist, fashion_mnist, digits")
    p.add_argument("--minutes", type=float, default=15.0, help="training budget per dataset (wall clock)")
    p.add_argument("--test-size", type=int, default=None, help="keep only the first test images (default: all)")
    p.add_argument("--train-size", type=int, default=None, help="keep only the first training images")
    p.add_argument("--decoder", choices=("categorical", "logistic_mixture"), default="categorical",
                   help="the likelihood layer (default categorical, compare's best on MNIST)")
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--hidden", default="200,200", help="hidden units of encoder and decoder")
    p.add_argument("--components", type=int, default=3, help="logistics per pixel (--decoder logistic_mixture)")
    p.add_argument("--k", type=int, default=100, help="importance samples for the IWAE bits/dim")
    p.add_argument("--latent-bits", type=int, default=None, help="latent bins as a power of 2 (codec default)")
    p.add_argument("--batch-size", type=int, default=None, help="images per codec batch (codec default)")
    p.add_argument("--no-image-codecs", action="store_true",
                   help="skip the one-file-per-image codecs (PNG, WebP, JPEG-XL, JPEG 2000, JPEG-LS)")
    p.add_argument("--max-images-per-codec", type=int, default=None,
                   help="code only the first N test images with each image codec and extrapolate (default: all)")
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    if args.minutes <= 0 or args.k < 1:
        p.error("--minutes must be > 0 and --k >= 1")
    if args.max_images_per_codec is not None and args.max_images_per_codec < 1:
        p.error("--max-images-per-codec must be >= 1")
    return args


class WallClockBudget:
    """A Keras callback that stops training once ``seconds`` have passed since it began."""

    def __new__(cls, seconds):
        import keras

        class _Budget(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.start = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                if time.perf_counter() - self.start > seconds:
                    self.model.stop_training = True

        return _Budget()


def bits_per_dim(log_likelihood_nats, num_dims):
    import numpy as np

    return -float(np.mean(log_likelihood_nats)) / (num_dims * math.log(2))


def run_dataset(name, args):
    import keras
    import numpy as np

    import vae_tf
    from vae_tf.comparison.references import reference_rows
    from vae_tf.compression import DEFAULT_LATENT_BITS, compress_with_stats, decompress, default_batch_size
    from vae_tf.data import load_arrays, num_levels_of

    arrays, source = load_arrays(name)  # the images as the dataset stores them (digits: levels 0..16)
    num_levels = arrays.get("num_levels") or num_levels_of(arrays["x_train"])
    train, test = (np.asarray(arrays[key]).astype(np.uint8) for key in ("x_train", "x_test"))
    train, test = train[:args.train_size], test[:args.test_size]
    event = tuple(test.shape[1:]) + ((1,) if test.ndim == 3 else ())
    num_dims = int(np.prod(event))
    to_unit = lambda k: (k.reshape((-1,) + event) / np.float32(num_levels - 1)).astype("float32")  # noqa: E731
    print(f"\n## {name} ({source}): {len(train)} train, {len(test)} test images {event}, {num_levels} levels")

    hidden = tuple(int(h) for h in args.hidden.split(","))
    keras.utils.set_random_seed(0)
    if args.decoder == "categorical":
        likelihood = vae_tf.layers.IndependentCategorical(event, num_levels=num_levels)
    else:
        likelihood = vae_tf.layers.IndependentDiscretizedLogisticMixture(event, num_components=args.components,
                                                              num_levels=num_levels)
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(args.latent_dim, hidden=hidden),
                       vae_tf.networks.mlp_decoder(hidden=hidden), likelihood, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    start = time.perf_counter()
    history = model.fit(to_unit(train), epochs=100000, batch_size=100, verbose=0,
                        callbacks=[WallClockBudget(60 * args.minutes)])
    train_seconds = time.perf_counter() - start
    epochs = len(history.history["loss"])
    print(f"trained {args.decoder} (MLP {args.hidden}, {args.latent_dim} latents) for {epochs} epochs in "
          f"{train_seconds:.0f} s")

    x = to_unit(test)
    elbo = bits_per_dim(model.elbo(x), num_dims)
    iwae = bits_per_dim(model.iwae_log_likelihood(x, k=args.k), num_dims)

    latent_bits = args.latent_bits or DEFAULT_LATENT_BITS
    batch_size = args.batch_size or default_batch_size(model)
    data, stats = compress_with_stats(model, test, latent_bits=latent_bits, batch_size=batch_size)
    start = time.perf_counter()
    back = decompress(model, data)
    decompress_seconds = time.perf_counter() - start
    if not (back.dtype == test.dtype and np.array_equal(back, test)):
        raise SystemExit(f"{name}: the decompressed images differ from the originals")

    references = reference_rows(test, train, num_levels=num_levels, image_codecs=not args.no_image_codecs,
                                max_images_per_codec=args.max_images_per_codec)
    lzma_rate = next(r["bits_per_dim"] for r in references if r["name"].startswith("LZMA"))
    rows = [
        ("vae-tf compress (the file)", stats.bits_per_dim,
         f"compress {stats.seconds:.1f} s, decompress {decompress_seconds:.1f} s (exact)"),
        ("  coded images alone", stats.net_bits / stats.num_dims,
         f"overhead {stats.overhead_bits / 8:.0f} bytes (header {stats.header_bytes}, seed {stats.seed_bits // 8})"),
        ("model -ELBO", elbo, "one latent sample per image"),
        (f"model IWAE (k={args.k})", iwae, ""),
    ] + [(r["name"], r["bits_per_dim"], f"{r['seconds']:.1f} s" + (
        f", first {r['images_coded']} of {len(test)} images" if r["images_coded"] < len(test) else "")
          + (f"; n/a: {r['no_bits_reason']}" if r.get("no_bits_reason") else ""))
         for r in references]
    print(f"\n| {name} | bits/dim | vs LZMA | notes |\n|---|---:|---:|---|")
    for label, rate, note in rows:
        numbers = "n/a | n/a" if rate is None else f"{rate:.4f} | {rate / lzma_rate:.3f}"
        print(f"| {label} | {numbers} | {note} |")
    verdict = "smaller" if stats.bits_per_dim < lzma_rate else "larger"
    print(f"\nThe VAE's file is {verdict} than LZMA's: {stats.bits_per_dim:.4f} vs {lzma_rate:.4f} bits/dim; "
          f"file - (-ELBO) = {stats.bits_per_dim - elbo:+.4f} bits/dim; "
          f"{1000 * stats.seconds / stats.count:.2f} ms/image to compress, "
          f"{1000 * decompress_seconds / stats.count:.2f} ms/image to decompress.")
    return {"dataset": name, "decoder": args.decoder, "train_images": len(train), "test_images": len(test), "num_levels": num_levels,
            "epochs": epochs, "train_seconds": train_seconds, "minutes": args.minutes, "latent_bits": latent_bits,
            "codec_batch_size": batch_size, "file_bits_per_dim": stats.bits_per_dim,
            "coded_bits_per_dim": stats.net_bits / stats.num_dims, "overhead_bytes": stats.overhead_bits / 8,
            "elbo_bits_per_dim": elbo, "iwae_bits_per_dim": iwae, "iwae_k": args.k,
            "compress_seconds": stats.seconds, "decompress_seconds": decompress_seconds,
            "references": [{k: r[k] for k in ("name", "bits_per_dim", "bytes", "seconds", "images_coded")} for r in references]}


def main(argv=None):
    args = parse_args(argv)
    from benchmarks import workload

    print(f"machine: {workload.machine_description()}; {workload.load_average()}")
    results = [run_dataset(name.strip(), args) for name in args.datasets.split(",") if name.strip()]
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
