"""Test log-likelihood on binarized MNIST after a wall-clock training budget, against Burda et al. (2015), Table 1.

Burda's architecture: 784-200-200-50 encoder, 50-200-200-784 decoder, tanh, Bernoulli decoder,
trained here on dynamically binarized MNIST (a fresh ``x ~ Bernoulli(grey)`` every epoch) for
``--minutes`` of wall-clock training, with the test NLL (``-log p(x)`` by the importance-weighted
estimate, ``k=5000``) measured at each ``--checkpoints`` minute on the 10,000 test images under one
fixed binarization. The clock stops while a checkpoint is evaluated; XLA compilation counts as
training time. Every budget (minutes, k, test images, training images) is a parameter of the same
code path, so CI runs the same script on the digits at a tiny budget (``tests/test_benchmarks.py``).

The recipe is a set of options: ``--objective elbo|iwae --num-samples k``, ``--batch-size``,
``--learning-rate`` with ``--lr-schedule`` decayed over the *time budget* (the run's fraction of
``--minutes``), ``--kl-warmup`` epochs, ``--output-bias data-mean|zero`` (the decoder's logits
start at the training pixels' mean, logit(mean), or at 0).

``--train-data static`` trains on Larochelle's statically binarized MNIST and evaluates on its
fixed test set as well (``vae_tf.data.load_dataset("binarized_mnist")``).

    python benchmarks/quality.py --data ../shared/data/mnist.npz --minutes 60 --checkpoints 5,15,30,60
    python benchmarks/quality.py --data ../shared/data/mnist.npz --minutes 60 --objective iwae --num-samples 5
    python benchmarks/quality.py --dataset digits --minutes 0.1 --k 10 --test-size 20      # smoke test
"""

import argparse
import json
import math
import os
import sys
import time

# Run as a script (`python benchmarks/quality.py`): make `benchmarks` and `vae_tf` importable.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from benchmarks import workload  # noqa: E402

#: Burda, Grosse & Salakhutdinov (2015), Table 1, MNIST, one stochastic layer (50 units),
#: test NLL in nats by k=5000 importance sampling, after 3280 epochs: (label, objective, k, NLL).
BURDA_TABLE_1 = [
    ("VAE (k=1)", "elbo", 1, 86.76),
    ("IWAE k=5", "iwae", 5, 85.54),
    ("IWAE k=50", "iwae", 50, 84.78),
]
BURDA_EPOCHS = 3280
OBJECTIVES = ("elbo", "iwae")
LR_SCHEDULES = ("constant", "cosine", "exponential")


def _type(convert, check, what):
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value
    return parse


positive_int = _type(int, lambda v: v > 0, "a positive integer")
non_negative_int = _type(int, lambda v: v >= 0, "an integer >= 0")
positive_float = _type(float, lambda v: 0 < v < math.inf, "a finite number > 0")
minutes_list = _type(lambda t: sorted(float(m) for m in t.split(",")), lambda v: v and v[0] > 0,
                     "comma-separated minutes > 0, e.g. 5,15,30,60")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="mnist", help="vae_tf.data dataset of grey images (default mnist; digits for CI)")
    p.add_argument("--data", help="local .npz (x_train, y_train, x_test, y_test), e.g. ../shared/data/mnist.npz")
    p.add_argument("--train-data", choices=("dynamic", "static"), default="dynamic",
                   help="dynamic: binarize the grey training images afresh every epoch (default); static: "
                        "Larochelle's binarized MNIST (--static-data or $VAE_TF_DATA_DIR/binarized_mnist.npz)")
    p.add_argument("--static-data", help="binarized_mnist.npz for --train-data static (default: the loader's)")
    p.add_argument("--minutes", type=positive_float, default=60.0, help="training wall-clock budget (default 60)")
    p.add_argument("--checkpoints", type=minutes_list, default=None,
                   help="training minutes at which the test NLL is measured (default: --minutes only)")
    p.add_argument("--k", type=positive_int, default=5000, help="importance samples of the test NLL (default 5000)")
    p.add_argument("--test-size", type=positive_int, default=None, help="test images evaluated (default all)")
    p.add_argument("--train-size", type=positive_int, default=None, help="training images (default all)")
    p.add_argument("--objective", choices=OBJECTIVES, default="elbo")
    p.add_argument("--num-samples", type=positive_int, default=1, help="k of the IWAE training bound (default 1)")
    p.add_argument("--batch-size", type=positive_int, default=100)
    p.add_argument("--learning-rate", type=positive_float, default=1e-3)
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="cosine",
                   help="decay over the time budget (default cosine, to 1%% of --learning-rate)")
    p.add_argument("--kl-warmup", type=non_negative_int, default=0, help="KL warm-up epochs (default 0: off)")
    p.add_argument("--output-bias", choices=("data-mean", "zero"), default="data-mean",
                   help="initial decoder logits: logit of the training pixels' mean (default) or 0")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    args.checkpoints = args.checkpoints or [args.minutes]
    if args.checkpoints[-1] > args.minutes:
        p.error(f"argument --checkpoints: {args.checkpoints[-1]:g} is beyond --minutes {args.minutes:g}")
    if args.num_samples > 1 and args.objective != "iwae":
        p.error("argument --num-samples: needs --objective iwae")
    return args


def load_data(args):
    """``(x_train, train_binarize, tests)``: training images, "dynamic" or None, and ``{name: binary test images}``."""
    import numpy as np

    from vae_tf import data

    if args.train_data == "static":
        static = data.load_dataset("binarized_mnist", path=args.static_data, train_size=args.train_size,
                                   test_size=args.test_size)
        x_train = static.x_train
        tests = {"Larochelle's static test set": (np.asarray(static.x_test) > 0.5).astype("float32")}
        return x_train, None, tests
    grey = data.load_dataset(args.dataset, path=args.data, validation_split=0, train_size=args.train_size,
                             test_size=args.test_size)
    # One fixed binarization of the test images (seeded), as evaluations of binarized MNIST use.
    tests = {f"{grey.name}, one fixed test binarization": data.binarize_static(grey.x_test, args.seed + 2)}
    return grey.x_train, "dynamic", tests


def build_model(args, event_shape, x_train):
    import numpy as np
    import keras

    import vae_tf

    model = vae_tf.VAE(
        encoder=vae_tf.networks.mlp_encoder(latent_dim=workload.LATENT, hidden=workload.HIDDEN, activation="tanh"),
        decoder=vae_tf.networks.mlp_decoder(hidden=workload.HIDDEN, activation="tanh"),
        likelihood=vae_tf.layers.IndependentBernoulli(event_shape),
        objective=args.objective, num_samples=args.num_samples, seed=args.seed,
    )
    model.build((None,) + tuple(event_shape))
    if args.output_bias == "data-mean":
        # E[x_bin] = grey value, so the pixel means give the decoder's starting probabilities
        # (Burda et al. and Kingma & Welling's code do the same): no epochs spent learning them.
        mean = np.clip(np.mean(x_train, axis=0).reshape(-1), 1e-3, 1 - 1e-3)
        model.likelihood.projection.bias.assign(np.log(mean / (1 - mean)).astype("float32"))
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    return model


def make_budget_callback(args, n_train, tests, rows):
    """A Keras callback that decays the learning rate over the budget, evaluates at each checkpoint, and stops."""
    import numpy as np
    import keras

    from vae_tf.training.schedules import decay_factor

    class TimeBudget(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()
            self.paused = 0.0
            self.pending = list(args.checkpoints)

        def elapsed(self):
            return time.perf_counter() - self.start - self.paused

        def on_train_batch_begin(self, batch, logs=None):
            progress = self.elapsed() / (60 * args.minutes)
            self.model.optimizer.learning_rate.assign(args.learning_rate * float(decay_factor(args.lr_schedule, progress)))

        def on_train_batch_end(self, batch, logs=None):
            seconds = self.elapsed()
            if not self.pending or seconds < 60 * self.pending[0]:
                return
            minutes = self.pending.pop(0)
            examples = int(self.model.optimizer.iterations.numpy()) * args.batch_size
            paused_at = time.perf_counter()
            row = {"checkpoint_minutes": minutes, "train_seconds": seconds, "epochs": examples / n_train,
                   "examples_per_s": examples / seconds, "beta": float(self.model.beta.numpy())}
            for name, x_test in tests.items():
                log_px = self.model.iwae_log_likelihood(x_test, k=args.k, seed=args.seed, verbose=0)
                if not np.all(np.isfinite(log_px)):
                    raise RuntimeError(f"non-finite log p(x) on {name}")
                row.setdefault("nll", {})[name] = -float(np.mean(log_px))
            rows.append(row)
            print(f"  {minutes:g} min: {row['epochs']:.1f} epochs, "
                  + ", ".join(f"NLL {v:.2f} ({k})" for k, v in row["nll"].items()), flush=True)
            self.paused += time.perf_counter() - paused_at
            if not self.pending:
                self.model.stop_training = True

    return TimeBudget()


def burda_reference(objective, num_samples):
    for label, obj, k, nll in BURDA_TABLE_1:
        if obj == objective and (k == num_samples or objective == "elbo"):
            return label, nll
    return None, None


def print_table(args, rows, tests):
    recipe = (f"{args.objective}" + (f" k={args.num_samples}" if args.objective == "iwae" else "")
              + f", batch {args.batch_size}, Adam {args.learning_rate:g} {args.lr_schedule}, "
              f"KL warm-up {args.kl_warmup} epochs, output bias {args.output_bias}")
    _, reference = burda_reference(args.objective, args.num_samples)
    print(f"\nrecipe: {recipe}; trained on {args.train_data}ally binarized images; test NLL by k={args.k}")
    print("| model | test set | training minutes | epochs | examples/s | test NLL (nats) | vs Burda (same objective) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        for name, nll in row["nll"].items():
            gap = f"{nll - reference:+.2f}" if reference is not None else "n/a"
            print(f"| vae-tf {args.objective}{' k=%d' % args.num_samples if args.objective == 'iwae' else ''} "
                  f"| {name} | {row['train_seconds'] / 60:.1f} | {row['epochs']:.1f} | {row['examples_per_s']:,.0f} "
                  f"| {nll:.2f} | {gap} |")
    for label, _, _, nll in BURDA_TABLE_1:
        print(f"| Burda et al. 2015, {label} | MNIST (dynamic) | n/a | {BURDA_EPOCHS} | n/a | {nll:.2f} | |")
    if args.k < 5000 or args.test_size is not None or args.dataset != "mnist":
        print(f"Not Burda's protocol (k=5000 on all 10,000 MNIST test images): k={args.k}, "
              f"{args.test_size or 'all'} test images of {args.dataset}; the comparison is indicative only.")


def main(argv=None):
    args = parse_args(argv)
    import keras

    from vae_tf.callbacks import KLWarmup
    from vae_tf.data import make_dataset

    print(f"machine: {workload.machine_description()}; {workload.load_average()}")
    keras.utils.set_random_seed(args.seed)
    x_train, binarize, tests = load_data(args)
    event_shape = tuple(x_train.shape[1:])
    print(f"training on {len(x_train)} images of shape {event_shape} for {args.minutes:g} min; "
          f"test NLL at {', '.join(f'{m:g}' for m in args.checkpoints)} min on "
          + "; ".join(f"{len(x)} images of {name}" for name, x in tests.items()), flush=True)
    model = build_model(args, event_shape, x_train)
    train = make_dataset(x_train, args.batch_size, binarize=binarize, shuffle=True, seed=args.seed)
    rows = []
    callbacks = [make_budget_callback(args, len(x_train), tests, rows)]
    if args.kl_warmup:
        callbacks.append(KLWarmup(epochs=args.kl_warmup))
    model.fit(train, epochs=10**9, verbose=0, callbacks=callbacks, shuffle=False)  # the pipeline shuffles
    print_table(args, rows, tests)
    print(workload.load_average())
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": workload.machine_description(), "args": vars(args), "rows": rows,
                       "burda_table_1": BURDA_TABLE_1}, f, indent=2)


if __name__ == "__main__":
    main()
