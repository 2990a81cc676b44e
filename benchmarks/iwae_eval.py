"""Wall time, peak memory and GFLOP/s of ``VAE.iwae_log_likelihood(x, k=5000)`` over the MNIST test set.

The model is the benchmark's MLP VAE (784-200-200-50, tanh, Bernoulli decoder),
trained for ``--train-epochs`` epochs first so the estimate is a real one (the
cost does not depend on the weights). Each of the ``n x k`` importance samples
costs one decoder pass, ``2 x (50*200 + 200*200 + 200*784)`` matmul FLOPs (the
encoder runs once per image and is not counted): about 21 TFLOP for 10,000
images at k=5000.

Peak memory is the process's resident-set high-water mark (``ru_maxrss``), the
figure the operating system sees; Python-level tracers miss TensorFlow's buffers.

    python benchmarks/iwae_eval.py --data mnist.npz                     # full size
    python benchmarks/iwae_eval.py --test-size 20 --k 50 --train-epochs 0   # smoke test
"""

import argparse
import json
import os
import sys
import time

# Run as a script (`python benchmarks/iwae_eval.py`): make `benchmarks` and `vae_tf` importable.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from benchmarks import workload  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="mnist.npz (x_train, x_test); random data of the same shape when omitted")
    p.add_argument("--test-size", type=int, default=10000, help="test images evaluated (default 10000)")
    p.add_argument("--k", type=int, default=5000, help="importance samples per image (default 5000)")
    p.add_argument("--train-epochs", type=int, default=1, help="epochs of training before the evaluation (default 1)")
    p.add_argument("--train-size", type=int, default=60000, help="training images per epoch (default 60000)")
    p.add_argument("--max-rows", type=int, default=None,
                   help="decoder rows per compiled call (default: VAE.iwae_log_likelihood's own)")
    p.add_argument("--peak-size", type=int, default=2048, help="n of the n x n matmul timed for the peak")
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    for name in ("test_size", "k", "train_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.train_epochs < 0:
        p.error("--train-epochs must be >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    import numpy as np
    import tensorflow as tf

    from benchmarks import recipe_vae_tf

    print(f"machine: {workload.machine_description()}; {workload.load_average()}")
    tf.random.set_seed(0)
    model = recipe_vae_tf.build()
    model.build((None,) + workload.IMAGE_SHAPE)
    if args.train_epochs:
        x_train = workload.load_grey_images(args.data, "train", args.train_size)
        model.fit(workload.binarized_dataset(tf, x_train), epochs=args.train_epochs, verbose=0)
    # A fixed binarization of the test set (seeded), as evaluations of binarized MNIST use.
    grey = workload.load_grey_images(args.data, "test", args.test_size)
    x_test = (np.random.default_rng(1).random(grey.shape, dtype=np.float32) < grey).astype("float32")
    kwargs = {} if args.max_rows is None else {"max_rows": args.max_rows}

    # Compile outside the timed region: one tiny call traces the same function.
    model.iwae_log_likelihood(x_test[:1], k=min(args.k, 2), **kwargs)
    rss_before = workload.peak_rss_gib()
    print(f"evaluating iwae_log_likelihood(k={args.k}) on {args.test_size} images "
          f"({args.data or 'random images'}) ...", flush=True)
    start = time.perf_counter()
    cpu_start = time.process_time()
    log_px = model.iwae_log_likelihood(x_test, k=args.k, verbose=1, **kwargs)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    peak_rss = workload.peak_rss_gib()
    if not np.all(np.isfinite(log_px)):
        raise RuntimeError("iwae_log_likelihood returned non-finite values")

    flops = args.test_size * args.k * workload.IWAE_FLOPS_PER_SAMPLE
    gflops = flops / seconds / 1e9
    peak = workload.matmul_peak_gflops(tf, args.peak_size)
    print(f"fp32 matmul peak ({args.peak_size}x{args.peak_size} tf.matmul, best of 10): {peak:.1f} GFLOP/s")
    print("| images | k | wall time (s) | CPU time (s) | peak RSS (GiB) | TFLOP | GFLOP/s | % of matmul peak "
          "| mean log p(x) (nats) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {args.test_size} | {args.k} | {seconds:.1f} | {cpu_seconds:.1f} | {peak_rss:.2f} | {flops / 1e12:.2f} "
          f"| {gflops:.1f} | {100 * gflops / peak:.0f}% | {float(np.mean(log_px)):.2f} |")
    print(f"peak RSS before the evaluation: {rss_before:.2f} GiB; {workload.load_average()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": workload.machine_description(), "images": args.test_size, "k": args.k,
                       "seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss_gib": peak_rss, "gflops": gflops,
                       "matmul_peak_gflops": peak, "mean_log_px": float(np.mean(log_px))}, f, indent=2)


if __name__ == "__main__":
    main()
