"""The benchmark workload shared by every recipe: the MLP VAE's shape, its data, its FLOP count, the machine's peak.

The model is the one of Kingma & Welling (2014) and Burda et al. (2015) on MNIST:
784-200-200-50 encoder, 50-200-200-784 decoder, tanh, Bernoulli decoder.
"""

import os
import resource
import time

import numpy as np

IMAGE_SHAPE = (28, 28, 1)
PIXELS = 784
HIDDEN = (200, 200)
LATENT = 50
BATCH = 100
LEARNING_RATE = 1e-3


def dense_macs(widths):
    """Multiply-adds of a stack of Dense layers ``widths[0] -> widths[1] -> ...`` for one example."""
    return sum(a * b for a, b in zip(widths[:-1], widths[1:]))


#: Encoder: 784 -> 200 -> 200 -> (mu, log sigma^2) = 2 * 50.
ENCODER_MACS = dense_macs((PIXELS,) + HIDDEN + (2 * LATENT,))
#: Decoder: 50 -> 200 -> 200 -> 784 logits.
DECODER_MACS = dense_macs((LATENT,) + HIDDEN + (PIXELS,))

#: Forward matmul FLOPs of one training example: ``2 * MACs`` (one multiply, one add).
FORWARD_FLOPS = 2 * (ENCODER_MACS + DECODER_MACS)
#: Forward + backward: the backward pass costs two matmuls per forward matmul
#: (gradient w.r.t. inputs and w.r.t. weights), so ``3x`` the forward FLOPs.
#: Element-wise work (tanh, softplus, Adam) is not counted.
TRAIN_FLOPS_PER_EXAMPLE = 3 * FORWARD_FLOPS
#: One importance sample of IWAE: one decoder pass (the encoder runs once per image, negligible).
IWAE_FLOPS_PER_SAMPLE = 2 * DECODER_MACS


def load_grey_images(path, split, n):
    """``n`` images in ``[0, 1]``, shape ``(n, 28, 28, 1)`` float32: MNIST ``split`` from ``path``, or random data.

    Random data (uniform grey values) has the same shape and therefore the same
    cost; it is used when no MNIST file is given.
    """
    if path:
        with np.load(path) as data:
            x = data[f"x_{split}"]
        if n > len(x):
            raise ValueError(f"asked for {n} {split} images, {path} holds {len(x)}")
        x = x[:n]
        x = x.astype("float32") / (255.0 if x.max() > 1 else 1.0)
        return x.reshape((n,) + IMAGE_SHAPE)
    return np.random.default_rng(0).random((n,) + IMAGE_SHAPE, dtype=np.float32)


def binarized_dataset(tf, x, batch=BATCH, seed=0):
    """``tf.data`` pipeline of dynamically binarized batches: a fresh ``x_bin ~ Bernoulli(x)`` every epoch.

    The images stay in one tensor; the pipeline shuffles indices, batches them,
    gathers a batch and binarizes it in one vectorised op (slicing 60,000 images
    one by one costs more than the model's own step), then prefetches. Each
    element is the pair ``(x_bin, x_bin)``, so the three recipes get exactly the
    same input.
    """
    images = tf.constant(x)

    def binarized_batch(indices):
        grey = tf.gather(images, indices)
        binary = tf.cast(tf.random.uniform(tf.shape(grey)) < grey, tf.float32)
        return binary, binary

    ds = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch, drop_remainder=True).map(binarized_batch).prefetch(tf.data.AUTOTUNE)


def check_timing_args(parser, args, subset, choices):
    """Rejects (``parser.error``, exit 2) timing flags that leave nothing to time or name unknown choices.

    ``args`` needs ``epochs``, ``warmup`` and ``train_size``; ``subset`` is the name of the
    comma-separated option (``"recipes"``, ``"models"``) whose items must be in ``choices``.
    """
    if args.epochs <= args.warmup:
        parser.error("--epochs must exceed --warmup: at least one epoch is timed")
    if args.train_size < BATCH:
        parser.error(f"--train-size must be at least one batch ({BATCH})")
    unknown = set(getattr(args, subset).split(",")) - set(choices)
    if unknown:
        parser.error(f"unknown {subset} {sorted(unknown)}; choose from {list(choices)}")


def matmul_peak_gflops(tf, n=2048, repeats=10):
    """fp32 matmul peak of this machine in GFLOP/s: best of ``repeats`` timed ``n x n @ n x n`` products.

    ``2 n^3`` FLOPs per product; the best run is reported (the least disturbed
    by other processes), which is what "peak" means.
    """
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    matmul = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    matmul(a, b).numpy()  # trace, warm the caches
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def peak_rss_gib():
    """This process's resident-set high-water mark in GiB (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


#: The instruction-set flags that decide the speed of TensorFlow's CPU kernels; the machines this
#: runs on differ in them (AVX-512 on some, AVX2 only on others), so every benchmark prints them.
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx_bf16",
               "amx_tile")


def machine_description():
    """CPU model, the cores this process may use, and the speed-relevant ISA flags of ``/proc/cpuinfo``."""
    model, flags = "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "unknown CPU":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    isa = " ".join(flag for flag in SPEED_FLAGS if flag in flags) or "unknown"
    return f"{model}, {cores} cores, flags: {isa}"


def load_average():
    """1-, 5- and 15-minute load averages, formatted; other processes sharing the cores slow every figure."""
    try:
        return "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load average unavailable"
