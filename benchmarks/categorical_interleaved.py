"""The categorical's training step over the discretized normal's, measured so that load cancels out.

``model_throughput.py`` trains one model after the other: on a shared machine the load changes between them and
a ratio of two epochs can be off by 2-5x. Here every model is compiled once, then one epoch of each runs in turn
for ``--rounds`` rounds, and the ratios are taken per round (same load) and of the medians, in wall and process
CPU time. The rows:

* ``dnormal``: ``mlp_discretized_normal`` of ``model_throughput.py`` (the reference);
* ``factored``: ``mlp_categorical``, whose likelihood is :class:`vae_tf.distributions.FactoredLevelCategorical`
  (log-probabilities a chunk of pixels at a time, never the ``(batch, D, L)`` logits);
* ``logits``: the same network with :class:`vae_tf.distributions.LevelCategorical` of the full logits (the path
  before ``FactoredLevelCategorical``).

Each in two settings: vae-tf's defaults (XLA for the MLPs) and Keras' (no XLA, one step per call)::

    export ONEDNN_MAX_CPU_ISA=AVX2 XLA_FLAGS=--xla_cpu_max_isa=AVX2     # an AVX2-only CPU, on one that has more
    python benchmarks/categorical_interleaved.py --data ../shared/data/mnist.npz --images 2400 --rounds 8
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

VARIANTS = ("dnormal", "factored", "logits")
SETTINGS = ("vae_tf", "keras")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="an MNIST .npz (default: random 8-bit images)")
    p.add_argument("--images", type=int, default=2400, help="training images per epoch (default 2400)")
    p.add_argument("--rounds", type=int, default=8, help="interleaved rounds, one epoch of every model each")
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, from " + ", ".join(VARIANTS))
    p.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated, from " + ", ".join(SETTINGS))
    args = p.parse_args(argv)
    args.variants, args.settings = args.variants.split(","), args.settings.split(",")
    if "dnormal" not in args.variants or not set(args.variants) <= set(VARIANTS):
        p.error(f"--variants must include dnormal and be among {', '.join(VARIANTS)}")
    if not set(args.settings) <= set(SETTINGS) or args.images < 100 or args.rounds < 1:
        p.error(f"--settings among {', '.join(SETTINGS)}, --images at least 100, --rounds at least 1")
    return args


def _build(variant, setting):
    import keras
    import losses
    import vae_tf
    from benchmarks import workload
    from benchmarks.model_throughput import COMPILE_ARGS, build

    keras.utils.set_random_seed(0)
    model, _ = build("mlp_discretized_normal" if variant == "dnormal" else "mlp_categorical")
    if variant == "logits":
        class FullLogits(vae_tf.layers.IndependentCategorical):
            def call(self, inputs):  # the (batch, D, L) logits, as before FactoredLevelCategorical
                return self.independent(vae_tf.distributions.LevelCategorical(self.logits(inputs), self.num_levels))

        model = vae_tf.VAE(encoder=model.encoder, decoder=model.decoder, likelihood=FullLogits(workload.IMAGE_SHAPE),
                           seed=0)
    model.compile(optimizer=keras.optimizers.Adam(workload.LEARNING_RATE), loss=losses.NegativeLogLikelihood(),
                  **COMPILE_ARGS[setting])
    return model


def main(argv=None):
    args = parse_args(argv)
    import keras
    import numpy as np
    import vae_tf
    from benchmarks import workload

    print(f"machine: {workload.machine_description()}; {workload.load_average()}")
    limits = [f"{name}={os.environ[name]}" for name in ("ONEDNN_MAX_CPU_ISA", "XLA_FLAGS") if os.environ.get(name)]
    print(f"instruction set limited by: {', '.join(limits) or 'nothing'}")
    if args.data:
        x = workload.load_grey_images(args.data, "train", args.images)
    else:
        x = np.random.default_rng(0).integers(0, 256, (args.images,) + workload.IMAGE_SHAPE) / 255.0
    levels = (np.round(x * 255) / 255).astype("float32")

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.wall, self.cpu = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    models = {}
    for setting in args.settings:
        for variant in args.variants:
            model, data = _build(variant, setting), vae_tf.data.make_dataset(levels, batch_size=100, seed=0)
            model.fit(data, epochs=2, verbose=0)  # traced and compiled before the clock runs
            models[setting, variant] = (model, data)
    wall = {key: [] for key in models}
    cpu = {key: [] for key in models}
    for r in range(args.rounds):
        for key, (model, data) in models.items():
            clock = EpochClock()
            model.fit(data, epochs=1, verbose=0, callbacks=[clock])
            wall[key].append(clock.wall)
            cpu[key].append(clock.cpu)
        print(f"round {r + 1}: " + ", ".join(f"{s}/{v} {wall[s, v][-1]:.2f} s" for s, v in models)
              + f" ({workload.load_average()})", flush=True)
    for setting in args.settings:
        base, base_cpu = wall[setting, "dnormal"], cpu[setting, "dnormal"]
        print(f"\n{setting}: dnormal median epoch {statistics.median(base):.3f} s")
        for variant in [v for v in args.variants if v != "dnormal"]:
            t, c = wall[setting, variant], cpu[setting, variant]
            per_round = statistics.median(a / b for a, b in zip(t, base))
            print(f"  {variant} step / dnormal step: {statistics.median(t) / statistics.median(base):.2f}x wall "
                  f"(median of per-round ratios {per_round:.2f}x), "
                  f"{statistics.median(c) / statistics.median(base_cpu):.2f}x CPU time")


if __name__ == "__main__":
    main()
