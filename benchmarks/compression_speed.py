"""Bits-back coding speed per decoder: ms/image to compress and to decompress, and a whole test set extrapolated.

For each decoder (Bernoulli, discretized normal with per-pixel sigma, mixture of 5 discretized
logistics, categorical) an MLP VAE of compare's size (200-200 hidden units, 16 latents) with
untrained weights codes ``--images`` images of the chosen shape and decodes them, checked bit
for bit. The time of a batch does not depend on the weights: every batch computes the full
``L``-level table of every sub-pixel at the padded ``batch_size`` shape, whatever the images. So
one batch's time extrapolates: ``seconds / batches x batches of 10,000 images`` (the first
batches of the 1, 2, 4, ... ramp cost a full batch each, so ms/image of a few hundred images is
higher than that of a whole test set; both are printed).

    python benchmarks/compression_speed.py                                  # MNIST shape, 400 images
    python benchmarks/compression_speed.py --shape 32,32,3 --decoders logistic_mixture,categorical   # CIFAR-10 shape
    python benchmarks/compression_speed.py --data ../shared/data/mnist.npz   # real MNIST test images

Prints the machine (CPU, cores, the AVX2/AVX-512/AMX flags) and the load average: other
processes on the cores slow every figure.
"""

import argparse
import os
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DECODERS = ("bernoulli", "discretized_normal", "logistic_mixture", "categorical")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--decoders", default=",".join(DECODERS), help=f"comma-separated, of {', '.join(DECODERS)}")
    p.add_argument("--shape", default="28,28,1", help="image shape H,W,C (default MNIST's 28,28,1)")
    p.add_argument("--images", type=int, default=400, help="images to code per decoder (default 400)")
    p.add_argument("--whole", type=int, default=10000, help="the test-set size to extrapolate to (default 10,000)")
    p.add_argument("--data", default=None, help="a .npz whose x_test (uint8, the shape above) is coded instead of "
                                                "random levels")
    p.add_argument("--batch-size", type=int, default=100)
    args = p.parse_args(argv)
    args.shape = tuple(int(v) for v in args.shape.split(","))
    args.decoders = [d.strip() for d in args.decoders.split(",") if d.strip()]
    unknown = sorted(set(args.decoders) - set(DECODERS))
    if unknown or args.images < 1 or len(args.shape) != 3:
        p.error(f"unknown decoders {unknown}, or --images < 1, or --shape not H,W,C")
    return args


def likelihood(name, shape):
    import vae_tf

    return {
        "bernoulli": lambda: vae_tf.layers.IndependentBernoulli(shape),
        "discretized_normal": lambda: vae_tf.layers.IndependentDiscretizedNormal(shape, scale="per_pixel"),
        "logistic_mixture": lambda: vae_tf.layers.IndependentDiscretizedLogisticMixture(shape, num_components=5),
        "categorical": lambda: vae_tf.layers.IndependentCategorical(shape),
    }[name]()


def images_for(name, args):
    import numpy as np

    if args.data:
        with np.load(args.data) as archive:
            x = archive["x_test"][:args.images].reshape((-1,) + args.shape)
    else:
        x = np.random.default_rng(0).integers(0, 256, (args.images,) + args.shape).astype(np.uint8)
    return (x > 127).astype(np.uint8) if name == "bernoulli" else x


def time_decoder(name, args):
    import keras
    import numpy as np

    import vae_tf
    from vae_tf.compression import coding_batches, compress_with_stats, decompress

    keras.utils.set_random_seed(0)
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(16, hidden=(200, 200)), vae_tf.networks.mlp_decoder(hidden=(200, 200)),
                       likelihood(name, args.shape), seed=0)
    model.build((None,) + args.shape)
    x = images_for(name, args)
    compress_with_stats(model, x[:2], batch_size=args.batch_size)  # compile both XLA programs outside the timing
    _, stats = compress_with_stats(model, x, batch_size=args.batch_size)
    data = compress_with_stats(model, x, batch_size=args.batch_size)[0]
    start = time.perf_counter()
    back = decompress(model, data)
    decode_seconds = time.perf_counter() - start
    if not np.array_equal(back, x):
        raise SystemExit(f"{name}: the decompressed images differ from the originals")
    batches = len(coding_batches(len(x), args.batch_size))
    whole = len(coding_batches(args.whole, args.batch_size))
    return {"decoder": name, "images": len(x), "compress_ms": 1000 * stats.seconds / len(x),
            "decompress_ms": 1000 * decode_seconds / len(x),
            "compress_whole_s": stats.seconds / batches * whole, "decompress_whole_s": decode_seconds / batches * whole,
            "bits_per_dim": stats.bits_per_dim}


def main(argv=None):
    args = parse_args(argv)
    from benchmarks import workload

    print(f"machine: {workload.machine_description()}; {workload.load_average()}")
    print(f"shape {args.shape}, {args.images} images per decoder, batches of {args.batch_size}, untrained MLP 200-200, "
          f"16 latents; {args.whole:,} images extrapolated from the time per batch\n")
    print(f"| decoder | compress ms/image | decompress ms/image | compress {args.whole:,} (s) | "
          f"decompress {args.whole:,} (s) |\n|---|---:|---:|---:|---:|")
    for name in args.decoders:
        r = time_decoder(name, args)
        print(f"| {name} | {r['compress_ms']:.2f} | {r['decompress_ms']:.2f} | {r['compress_whole_s']:.0f} | "
              f"{r['decompress_whole_s']:.0f} |", flush=True)
    print(f"\n{workload.load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
