"""Where a ``vae-tf compare`` run's memory goes: peak and current RSS per phase and per configuration.

Runs :func:`vae_tf.comparison.runner.run_compare` with its phases wrapped: data load, reference codecs, and per
configuration build, fit, the test splits, the test ELBO, IWAE, reconstruction MSE, KL, the optimal-sigma
rescoring, pictures and the report. For each phase it prints RSS before and after (``VmRSS``) and the phase's
own peak (``VmHWM``, reset at every phase boundary by writing ``5`` to ``/proc/self/clear_refs``; Linux only),
and, with ``--tracemalloc``, the peak of Python-side allocations (numpy arrays included) in the phase. After
each configuration it prints what is still alive: RSS after ``gc.collect()``, traced Python bytes, and how many
Keras models and ``tf.function`` objects the garbage collector can still reach.

Resetting ``VmHWM`` also resets what ``/usr/bin/time -v`` reports as the maximum resident set size, so measure
that in a run without this script. Example (a CIFAR-10 compare of every configuration at a small budget)::

    python benchmarks/compare_memory.py --data ../shared/data/cifar10.npz --epochs 1 --train-size 3000 \\
        --test-size 1000 --iwae-examples 200 --k 20 --out /tmp/compare-memory

``--minutes M`` trains each configuration for M minutes instead (``vae-tf compare --minutes``).
"""

import argparse
import functools
import gc
import json
import os
import sys
import time
import tracemalloc

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from vae_tf.long_jobs import GIB, proc_status_bytes  # noqa: E402  (after the path)


def _reset_hwm():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


class PhaseLog:
    """Nested phases; each gets the peak RSS reached while it was open (children included)."""

    def __init__(self, traced):
        self.traced = traced
        self.open = []  # [name, rss_before_bytes, peak_bytes, traced_peak_bytes]
        self.records = []
        self.process_peak_bytes = 0

    def _fold(self):
        # The HWM since the last reset belongs to every phase open now; then start a fresh window.
        hwm = proc_status_bytes("VmHWM")
        traced_peak = tracemalloc.get_traced_memory()[1] if self.traced else 0
        for phase in self.open:
            phase[2] = max(phase[2], hwm)
            phase[3] = max(phase[3], traced_peak)
        self.process_peak_bytes = max(self.process_peak_bytes, hwm)
        _reset_hwm()
        if self.traced:
            tracemalloc.reset_peak()

    def enter(self, name):
        self._fold()
        self.open.append([name, proc_status_bytes("VmRSS"), 0, 0])

    def leave(self, seconds):
        self._fold()
        name, before, peak, traced_peak = self.open.pop()
        after = proc_status_bytes("VmRSS")
        depth = len(self.open)
        record = {"phase": name, "depth": depth, "rss_before_gib": before / GIB,
                  "peak_gib": peak / GIB, "rss_after_gib": after / GIB, "seconds": seconds,
                  "traced_peak_gib": traced_peak / GIB if self.traced else None}
        self.records.append(record)
        traced = f", traced peak {record['traced_peak_gib']:.2f}" if self.traced else ""
        print(f"[memory] {'  ' * depth}{name}: RSS {record['rss_before_gib']:.2f} -> {record['rss_after_gib']:.2f} "
              f"GiB, peak {record['peak_gib']:.2f} GiB{traced} ({seconds:.1f} s)", flush=True)

    def wrap(self, name, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            label = name(*args, **kwargs) if callable(name) else name
            self.enter(label)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.leave(time.perf_counter() - start)
        return wrapped


def _alive():
    """What the garbage collector can still reach: Keras models, tf.function objects, big numpy arrays."""
    import keras
    import numpy as np
    from tensorflow.python.eager.polymorphic_function import polymorphic_function

    gc.collect()
    objects = gc.get_objects()
    models = sum(isinstance(o, keras.Model) for o in objects)
    functions = sum(isinstance(o, polymorphic_function.Function) for o in objects)
    arrays = [o for o in objects if isinstance(o, np.ndarray) and o.nbytes >= 2**20 and o.base is None]
    return models, functions, sum(a.nbytes for a in arrays) / GIB, len(arrays)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None)
    p.add_argument("--dataset", default="digits")
    p.add_argument("--configs", default=None, help="comma-separated names (default: all)")
    p.add_argument("--epochs", type=int, default=None, help="default 1, or the maximum under --minutes")
    p.add_argument("--minutes", type=float, default=None)
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--iwae-examples", type=int, default=200)
    p.add_argument("--train-size", type=int, default=None)
    p.add_argument("--test-size", type=int, default=None)
    p.add_argument("--no-codecs", action="store_true")
    p.add_argument("--tracemalloc", action="store_true", help="also trace Python-side allocations (slower)")
    p.add_argument("--top", type=int, default=0, help="after each configuration, the N largest traced lines")
    p.add_argument("--json", default=None, help="write the phase records here")
    p.add_argument("--out", default="/tmp/compare-memory")
    args = p.parse_args(argv)

    import vae_tf  # noqa: F401  (TensorFlow's start-up handling first)
    from vae_tf.comparison import runner
    from vae_tf.evaluation import scores

    if args.tracemalloc:
        tracemalloc.start(25 if args.top else 1)
    log = PhaseLog(args.tracemalloc)
    # Every phase of a compare, by the function that runs it: (module, function name, phase).
    phases = [(runner, "load_dataset", "data load"), (runner, "_codec_rows", "reference codecs"),
              (runner, "build_model", "build"), (runner, "fit_vae", "fit"), (runner, "prepare_splits", "test splits"),
              (runner, "held_out_metrics", "test metrics"), (scores, "elbo", "ELBO"),
              (scores, "iwae_log_likelihood", "IWAE"), (scores, "reconstruction_mse", "recon MSE"),
              (scores, "kl_and_active_units", "KL, active units"),
              (runner, "bits_per_dim_at_optimal_sigma", "optimal sigma"), (runner, "_save_pictures", "pictures"),
              (runner.report, "write_report", "report"), (runner.outputs, "save_learning_curves", "learning curves")]
    for module, name, phase in phases:
        setattr(module, name, log.wrap(phase, getattr(module, name)))
    one = runner._run_one

    def run_one(config, *a, **kw):
        log.enter(f"configuration {config.name}")
        start = time.perf_counter()
        try:
            return one(config, *a, **kw)
        finally:
            log.leave(time.perf_counter() - start)
            models, functions, array_gib, arrays = _alive()
            traced = tracemalloc.get_traced_memory()[0] / GIB if args.tracemalloc else float("nan")
            print(f"[memory] after {config.name} and gc: RSS {proc_status_bytes('VmRSS') / GIB:.2f} GiB, "
                  f"traced {traced:.2f} GiB, {models} Keras models, {functions} tf.functions, "
                  f"{arrays} numpy arrays >= 1 MiB owning {array_gib:.2f} GiB", flush=True)
            log.records.append({"phase": f"alive after {config.name}", "rss_gib": proc_status_bytes("VmRSS") / GIB,
                                "traced_gib": traced, "keras_models": models, "tf_functions": functions,
                                "array_gib": array_gib})
            if args.top:
                for stat in tracemalloc.take_snapshot().statistics("traceback")[: args.top]:
                    print(f"[memory]   {stat.size / 2**20:8.1f} MiB  {stat.count} blocks")
                    for line in stat.traceback.format()[-6:]:
                        print(f"[memory]       {line}")

    runner._run_one = run_one
    start = time.perf_counter()
    log.enter("compare")
    runner.run_compare(dataset=args.dataset, data=args.data,
                       configs=args.configs.split(",") if args.configs else None,
                       epochs=1 if args.epochs is None and args.minutes is None else args.epochs, minutes=args.minutes,
                       latent_dim=args.latent_dim, k=args.k, seed=0, out=args.out, verbose=2,
                       train_size=args.train_size, test_size=args.test_size, iwae_examples=args.iwae_examples,
                       codecs=not args.no_codecs)
    log.leave(time.perf_counter() - start)
    print(f"[memory] process peak RSS {log.process_peak_bytes / GIB:.2f} GiB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(log.records, f, indent=1)


if __name__ == "__main__":
    main()
