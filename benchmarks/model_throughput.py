"""Training throughput of vae-tf's other models: a conv VAE and the discretized decoders, fast path against Keras' own.

``train_throughput.py`` races the MLP Bernoulli VAE against the recipes users copy; those recipes
have no conv or discretized counterpart. Here each model is trained twice with ``VAE.fit`` in this
process, on the same data: once with vae-tf's defaults (``steps_per_execution=8``, the sampling
and log-density fast paths, XLA for the MLPs but not for networks with convolutions, see
``VAE.prefers_xla``) and once with what Keras does by itself on a CPU-only machine
(``jit_compile=False``, one step per call, float32). The ratio is what vae-tf's fast path buys each model.

vae-tf's defaults include ``precision="auto"``: on a CPU with AMX or AVX512-BF16 the networks with
convolutions compute in bfloat16 (``vae_tf.networks.precision``; the layers that output distribution
parameters, and the likelihood, stay float32). That is not the same arithmetic as Keras' float32, so the
table shows the final training loss of both settings side by side: the speed-up counts only if the loss
is as good. ``--settings vae_tf,keras,xla,fp32`` adds vae-tf's defaults with XLA forced on (the choice
``VAE.compile`` makes for the MLPs; for the conv models it shows what XLA would cost) and with the networks
kept in float32 (what the fast path buys without bfloat16, and what it gives on a CPU without it).

Models (batch 100, Adam 1e-3, 50 latents):

* ``mlp_bernoulli``: the benchmark's MLP (tanh 200-200), dynamically binarized MNIST (the reference row);
* ``conv_bernoulli``: ``networks.conv_encoder`` / ``conv_decoder``, dynamically binarized MNIST;
* ``resnet_bernoulli``: ``networks.resnet_encoder`` / ``resnet_decoder`` (widths 32-64, one block per stage),
  dynamically binarized MNIST;
* ``mlp_discretized_normal``, ``mlp_logistic_mixture``, ``mlp_categorical``: the MLP with the
  discretized decoders of the bits/dim work, on the grey levels ``k / 255``. With both of the first and the
  last, a line gives the categorical's training step over the discretized normal's, per setting.

    python benchmarks/model_throughput.py --data mnist.npz
    python benchmarks/model_throughput.py --train-size 300 --epochs 2 --models mlp_bernoulli   # smoke test

To see a CPU without AVX-512 on one that has it, limit oneDNN and XLA (the networks stay float32 unless
a conv model's ``precision="auto"`` finds native bfloat16, which reads the real CPU's flags)::

    export ONEDNN_MAX_CPU_ISA=AVX2 XLA_FLAGS=--xla_cpu_max_isa=AVX2
    python benchmarks/model_throughput.py --data mnist.npz --models mlp_discretized_normal,mlp_categorical
"""

import argparse
import json
import os
import statistics
import sys
import time

# Run as a script (`python benchmarks/model_throughput.py`): make `benchmarks` and `vae_tf` importable.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from benchmarks import workload  # noqa: E402

MODELS = ("mlp_bernoulli", "conv_bernoulli", "resnet_bernoulli", "mlp_discretized_normal", "mlp_logistic_mixture",
          "mlp_categorical")
SETTINGS = {"vae_tf": "vae-tf defaults", "keras": "Keras defaults", "xla": "vae-tf defaults, XLA forced on",
            "fp32": "vae-tf defaults, float32 networks"}
#: ``compile`` arguments of each setting on top of the model's own defaults.
COMPILE_ARGS = {"vae_tf": {}, "keras": {"jit_compile": False, "steps_per_execution": 1, "precision": "float32"},
                "xla": {"jit_compile": True}, "fp32": {"precision": "float32"}}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="mnist.npz (x_train); random data of the same shape when omitted")
    p.add_argument("--train-size", type=int, default=20000, help="training images per epoch (default 20000)")
    p.add_argument("--epochs", type=int, default=4, help="epochs per run, warm-up included (default 4)")
    p.add_argument("--warmup", type=int, default=1, help="first epochs left out of the median (default 1)")
    p.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {','.join(MODELS)}")
    p.add_argument("--settings", default="vae_tf,keras", help=f"comma-separated subset of {','.join(SETTINGS)} "
                   "(default vae_tf,keras)")
    p.add_argument("--batch-size", type=int, default=workload.BATCH, help=f"default {workload.BATCH}")
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    workload.check_timing_args(p, args, "models", MODELS)
    unknown = set(args.settings.split(",")) - set(SETTINGS)
    if unknown or "vae_tf" not in args.settings.split(",") or "keras" not in args.settings.split(","):
        p.error(f"--settings: vae_tf and keras, optionally xla and fp32; got {args.settings!r}")
    return args


def build(name):
    """The VAE called ``name``, and whether it trains on binarized images."""
    import vae_tf

    shape = workload.IMAGE_SHAPE
    if name == "conv_bernoulli":
        encoder = vae_tf.networks.conv_encoder(latent_dim=workload.LATENT)
        decoder = vae_tf.networks.conv_decoder(shape)
        likelihood = vae_tf.layers.IndependentBernoulli(shape, project=False)
    elif name == "resnet_bernoulli":
        encoder = vae_tf.networks.resnet_encoder(latent_dim=workload.LATENT)
        decoder = vae_tf.networks.resnet_decoder(shape)
        likelihood = vae_tf.layers.IndependentBernoulli(shape, project=False)
    else:
        encoder = vae_tf.networks.mlp_encoder(latent_dim=workload.LATENT, hidden=workload.HIDDEN, activation="tanh")
        decoder = vae_tf.networks.mlp_decoder(hidden=workload.HIDDEN, activation="tanh")
        likelihood = {
            "mlp_bernoulli": lambda: vae_tf.layers.IndependentBernoulli(shape),
            "mlp_discretized_normal": lambda: vae_tf.layers.IndependentDiscretizedNormal(shape, scale="learned"),
            "mlp_logistic_mixture": lambda: vae_tf.layers.IndependentDiscretizedLogisticMixture(shape, num_components=5),
            "mlp_categorical": lambda: vae_tf.layers.IndependentCategorical(shape),
        }[name]()
    model = vae_tf.VAE(encoder=encoder, decoder=decoder, likelihood=likelihood, seed=0)
    return model, name.endswith("bernoulli")


def run(name, setting, x, args):
    """Examples/s (median of the timed epochs) of one model under one setting."""
    import keras
    import numpy as np
    import tensorflow as tf

    import losses
    import vae_tf

    tf.random.set_seed(0)
    model, binarized = build(name)
    model.compile(optimizer=keras.optimizers.Adam(workload.LEARNING_RATE), loss=losses.NegativeLogLikelihood(),
                  **COMPILE_ARGS[setting])
    if binarized:
        dataset = workload.binarized_dataset(tf, x, batch=args.batch_size)
    else:
        # The discretized decoders model the levels k / 255 (random stand-in data is put on that grid).
        levels = (np.round(x * 255) / 255).astype("float32")
        dataset = vae_tf.data.make_dataset(levels, batch_size=args.batch_size, seed=0)
    seconds = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    history = model.fit(dataset, epochs=args.epochs, verbose=0, callbacks=[EpochTimer()])
    examples = (len(x) // args.batch_size) * args.batch_size if binarized else len(x)
    return {"model": name, "setting": setting, "jit_compile": bool(model.jit_compile), "precision": model.precision,
            "network": vae_tf.networks.describe_network(model), "epoch_seconds": seconds,
            "examples_per_s": examples / statistics.median(seconds[args.warmup:]),
            "final_loss": float(history.history["loss"][-1])}


def _ratio_lines(results):
    """One line per model: how many times faster than Keras' defaults each of vae-tf's settings trained it."""
    by_key = {(r["model"], r["setting"]): r for r in results}
    lines = []
    for name in dict.fromkeys(r["model"] for r in results):
        plain = by_key[(name, "keras")]["examples_per_s"]
        ratios = [f"{SETTINGS[s]} {by_key[(name, s)]['examples_per_s'] / plain:.2f}x"
                  for s in SETTINGS if s != "keras" and (name, s) in by_key]
        lines.append(f"{name}: " + ", ".join(ratios) + " of Keras' defaults")
    return "\n".join(lines)


def _step_ratio_line(results, slow="mlp_categorical", base="mlp_discretized_normal"):
    """``slow``'s training step over ``base``'s, per setting (same network, batch and data), or "" without both.

    Both train on the same images per epoch, so the ratio of step times is that of examples/s, inverted.
    """
    by_key = {(r["model"], r["setting"]): r for r in results}
    ratios = [f"{SETTINGS[s]} {by_key[(base, s)]['examples_per_s'] / by_key[(slow, s)]['examples_per_s']:.2f}x"
              for s in SETTINGS if (slow, s) in by_key and (base, s) in by_key]
    return f"{slow} step time / {base} step time: " + ", ".join(ratios) if ratios else ""


def format_table(results):
    head = "| model | vae-tf defaults (examples/s) | Keras defaults (examples/s) | vae-tf / Keras |"
    rule = "| --- | ---: | ---: | ---: |"
    extra = [setting for setting in ("xla", "fp32") if any(r["setting"] == setting for r in results)]
    for setting in extra:
        head += f" {SETTINGS[setting]} (examples/s) | / Keras |"
        rule += " ---: | ---: |"
    rows = [head + " final loss, vae-tf / Keras (nats) | network | vae-tf XLA | vae-tf precision |",
            rule + " ---: | --- | :---: | --- |"]
    by_key = {(r["model"], r["setting"]): r for r in results}
    for name in dict.fromkeys(r["model"] for r in results):
        fast, plain = by_key[(name, "vae_tf")], by_key[(name, "keras")]
        row = (f"| {name} | {fast['examples_per_s']:,.0f} | {plain['examples_per_s']:,.0f} | "
               f"{fast['examples_per_s'] / plain['examples_per_s']:.2f}x |")
        for setting in extra:
            other = by_key.get((name, setting))
            row += (f" {other['examples_per_s']:,.0f} | {other['examples_per_s'] / plain['examples_per_s']:.2f}x |"
                    if other else " | |")
        rows.append(row + f" {fast['final_loss']:.1f} / {plain['final_loss']:.1f} | {fast['network']} | "
                    f"{'on' if fast['jit_compile'] else 'off'} | {fast['precision']} |")
    return "\n".join(rows)


def main(argv=None):
    args = parse_args(argv)
    from vae_tf.networks.precision import cpu_has_native_bfloat16

    print(f"machine: {workload.machine_description()}; {workload.load_average()}")
    limits = [f"{name}={os.environ[name]}" for name in ("ONEDNN_MAX_CPU_ISA", "XLA_FLAGS") if os.environ.get(name)]
    if limits:
        print(f"instruction set limited by: {', '.join(limits)}")
    print(f"native bfloat16 (AMX / AVX512-BF16): {'yes' if cpu_has_native_bfloat16() else 'no'}: vae-tf's conv "
          f"and resnet rows compute in {'bfloat16' if cpu_has_native_bfloat16() else 'float32'}")
    print(f"data: {args.data or 'random images'} ({args.train_size} x 28x28), batch {args.batch_size}, "
          f"{args.epochs} epochs per run, median of the last {args.epochs - args.warmup}")
    x = workload.load_grey_images(args.data, "train", args.train_size)
    results = []
    for name in args.models.split(","):
        for setting in args.settings.split(","):
            label = SETTINGS[setting]
            print(f"running {name}, {label} ... ({workload.load_average()})", flush=True)
            results.append(run(name, setting, x, args))
            print(f"  epochs (s): {', '.join(f'{s:.2f}' for s in results[-1]['epoch_seconds'])}", flush=True)
    print(format_table(results))
    print(_ratio_lines(results))
    step_ratio = _step_ratio_line(results)
    if step_ratio:
        print(step_ratio)
    print(f"peak RSS {workload.peak_rss_gib():.2f} GiB; {workload.load_average()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": workload.machine_description(), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
