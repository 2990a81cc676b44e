"""Training throughput of one MLP VAE written three ways, measured side by side on this machine.

(a) vae-tf as a user writes it, (b) the keras.io VAE recipe (Keras 3), (c) TFP's
probabilistic-layers recipe (tf_keras). Same model (784-200-200-50 encoder,
50-200-200-784 decoder, tanh, Bernoulli decoder), batch 100, Adam 1e-3, the same
dynamically binarized ``tf.data`` pipeline. Each recipe runs in its own Python
process (tf_keras and Keras 3 do not share one), one after the other.

Reported per recipe: examples/s (median over the epochs after ``--warmup``
epochs), the ratio to vae-tf, examples per CPU-second of the process (steadier
than wall time when other processes share the cores), and achieved GFLOP/s = examples/s x matmul FLOPs
per example (forward matmul FLOPs x 3 for forward + backward; element-wise work
not counted) against the fp32 matmul peak measured in the same run.

    python benchmarks/train_throughput.py --data mnist.npz          # full size
    python benchmarks/train_throughput.py --train-size 2000 --epochs 2 --warmup 1   # smoke test
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# Run as a script (`python benchmarks/train_throughput.py`): make `benchmarks` and `vae_tf` importable.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from benchmarks import workload  # noqa: E402

RECIPES = {
    "vae_tf": "(a) vae-tf VAE.fit",
    "keras_io": "(b) keras.io recipe",
    "tfp_layers": "(c) TFP layers recipe",
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="mnist.npz (x_train); random data of the same shape when omitted")
    p.add_argument("--train-size", type=int, default=60000, help="training images per epoch (default 60000)")
    p.add_argument("--epochs", type=int, default=4, help="epochs per recipe, warm-up included (default 4)")
    p.add_argument("--warmup", type=int, default=1, help="first epochs left out of the median (default 1)")
    p.add_argument("--recipes", default=",".join(RECIPES), help=f"comma-separated subset of {','.join(RECIPES)}")
    p.add_argument("--peak-size", type=int, default=2048, help="n of the n x n matmul timed for the peak")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--child", choices=list(RECIPES), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    workload.check_timing_args(p, args, "recipes", RECIPES)
    return args


def epoch_timer(base):
    """A Keras callback class (Keras 3 or tf_keras ``base``) recording each epoch's wall time."""

    class EpochTimer(base):
        def __init__(self):
            super().__init__()
            self.seconds = []
            self.cpu_seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = (time.perf_counter(), time.process_time())

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start[0])
            self.cpu_seconds.append(time.process_time() - self._start[1])

    return EpochTimer


def run_child(args):
    """Trains one recipe in this process and prints its epoch times as one JSON line."""
    import tensorflow as tf

    if args.child == "vae_tf":
        from benchmarks import recipe_vae_tf as recipe
    elif args.child == "keras_io":
        from benchmarks import recipe_keras_io as recipe
    else:
        from benchmarks import recipe_tfp_layers as recipe
    tf.random.set_seed(0)
    x = workload.load_grey_images(args.data, "train", args.train_size)
    dataset = workload.binarized_dataset(tf, x)
    timers = []

    def callback(base):
        timers.append(epoch_timer(base)())
        return timers[-1]

    final_loss = recipe.train(tf, dataset, args.epochs, callback)
    examples = (len(x) // workload.BATCH) * workload.BATCH
    print(json.dumps({"recipe": args.child, "epoch_seconds": timers[0].seconds,
                      "epoch_cpu_seconds": timers[0].cpu_seconds, "examples_per_epoch": examples,
                      "final_loss": final_loss, "peak_rss_gib": workload.peak_rss_gib()}))


def run_recipe(name, args):
    """Runs one recipe in a fresh Python process and returns its parsed result."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", name, "--train-size", str(args.train_size),
           "--epochs", str(args.epochs), "--warmup", str(args.warmup)]
    if args.data:
        cmd += ["--data", args.data]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO_ROOT, env.get("PYTHONPATH")]))
    if name == "tfp_layers":
        env["TF_USE_LEGACY_KERAS"] = "1"  # tfp.layers are tf_keras layers
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"recipe {name} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    timed = result["epoch_seconds"][args.warmup:]
    result["examples_per_s"] = result["examples_per_epoch"] / statistics.median(timed)
    result["examples_per_cpu_s"] = result["examples_per_epoch"] / statistics.median(result["epoch_cpu_seconds"][args.warmup:])
    result["gflops"] = result["examples_per_s"] * workload.TRAIN_FLOPS_PER_EXAMPLE / 1e9
    return result


def format_table(results, peak):
    base = next((r["examples_per_s"] for r in results if r["recipe"] == "vae_tf"), None)
    base_cpu = next((r["examples_per_cpu_s"] for r in results if r["recipe"] == "vae_tf"), None)
    rows = [
        "| recipe | examples/s | vs vae-tf | GFLOP/s | % of matmul peak | examples/CPU-s | vs vae-tf (CPU) "
        "| final loss (nats) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        ratio = f"{r['examples_per_s'] / base:.2f}x" if base else "n/a"
        ratio_cpu = f"{r['examples_per_cpu_s'] / base_cpu:.2f}x" if base_cpu else "n/a"
        rows.append(f"| {RECIPES[r['recipe']]} | {r['examples_per_s']:,.0f} | {ratio} | {r['gflops']:.1f} | "
                    f"{100 * r['gflops'] / peak:.0f}% | {r['examples_per_cpu_s']:,.0f} | {ratio_cpu} | "
                    f"{r['final_loss']:.1f} |")
    return "\n".join(rows)


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        return run_child(args)
    import tensorflow as tf

    print(f"machine: {workload.machine_description()}; {workload.load_average()}")
    print(f"data: {args.data or 'random images'} ({args.train_size} x 28x28), batch {workload.BATCH}, "
          f"{args.epochs} epochs per recipe, median of the last {args.epochs - args.warmup}")
    print(f"matmul FLOPs per training example: {workload.TRAIN_FLOPS_PER_EXAMPLE / 1e6:.2f} M "
          f"(3 x {workload.FORWARD_FLOPS / 1e6:.3f} M forward)")
    peak = workload.matmul_peak_gflops(tf, args.peak_size)
    results = []
    for name in args.recipes.split(","):
        print(f"running {RECIPES[name]} ... ({workload.load_average()})", flush=True)
        results.append(run_recipe(name, args))
        r = results[-1]
        print(f"  epochs (s): {', '.join(f'{s:.2f}' for s in r['epoch_seconds'])}; "
              f"peak RSS {r['peak_rss_gib']:.2f} GiB", flush=True)
    # The peak again at the end, keeping the better: other processes on the machine only ever lower it.
    peak = max(peak, workload.matmul_peak_gflops(tf, args.peak_size))
    print(f"fp32 matmul peak ({args.peak_size}x{args.peak_size} tf.matmul, best of 10): {peak:.1f} GFLOP/s")
    print(format_table(results, peak))
    others = [r["examples_per_s"] for r in results if r["recipe"] != "vae_tf"]
    base = next((r["examples_per_s"] for r in results if r["recipe"] == "vae_tf"), None)
    if base and others:
        print(f"vae-tf / fastest other recipe: {base / max(others):.2f}x wall-clock")
        others_cpu = [r["examples_per_cpu_s"] for r in results if r["recipe"] != "vae_tf"]
        base_cpu = next(r["examples_per_cpu_s"] for r in results if r["recipe"] == "vae_tf")
        print(f"vae-tf / fastest other recipe: {base_cpu / max(others_cpu):.2f}x per CPU-second "
              "(process CPU time: less sensitive to other processes on the machine)")
    print(workload.load_average())
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": workload.machine_description(), "matmul_peak_gflops": peak, "results": results}, f,
                      indent=2)


if __name__ == "__main__":
    main()
