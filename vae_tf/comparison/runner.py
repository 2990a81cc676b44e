"""``vae_tf.compare``: one VAE per configuration, same data, architecture, seed and budget."""

import gc
import hashlib
import os

import keras
import numpy as np

from vae_tf.callbacks import EpochSpeed
from vae_tf.comparison import findings, outputs, report
from vae_tf.comparison.outputs import finished_rows
from vae_tf.comparison.references import DESCRIPTIONS, reference_rows
from vae_tf.comparison.findings import BINARIZED, GREY, MODEL
from vae_tf.data import binarize_static, grey_levels, load_dataset, smallest_level_dtype
from vae_tf.errors import RunInterrupted, check_positive_int, check_positive_number
from vae_tf.evaluation import DEQUANTIZED_BOUND, bits_per_dim_at_optimal_sigma, held_out_metrics, nats_to_bits_per_dim
from vae_tf.long_jobs import PeakRSS, count_of, format_duration, return_freed_memory, stopping_on_signals
from vae_tf.models.families import build_model, check_model_family
from vae_tf.models.vae import VAE
from vae_tf.models.vae.config import keras_mse_implied_beta, keras_mse_implied_sigma, resolve_configs
from vae_tf.networks import network_kind
from vae_tf.support import LEVELS
from vae_tf.training import TEST_SEED_OFFSET, fit_vae, prepare_splits

#: IWAE with k samples costs k decoder passes per image: score this many test images by default.
DEFAULT_IWAE_EXAMPLES = 1000
#: The epochs of a run: without a time budget, and under one when no count is given (in effect no cap).
DEFAULT_EPOCHS, BUDGET_MAX_EPOCHS = 10, 1000


def compare(dataset="digits", data=None, configs=None, epochs=None, latent_dim=16, k=100, batch_size=100,
            seed=0, out="runs/compare", verbose=1, minutes=None, model="vae"):
    """Trains one VAE per configuration and writes the comparison into ``out``.

    Args:
        dataset: ``"digits"`` (built in), ``"mnist"`` or ``"fashion_mnist"`` (see :mod:`vae_tf.data`).
        data: path of a local ``.npz`` (``x_train, y_train, x_test, y_test``); overrides where
            the arrays come from.
        configs: ``None`` (all of ``vae_tf.compare.DEFAULT_CONFIGS``), names, or ``VAEConfig`` objects.
        epochs, latent_dim, batch_size, seed: the budget and architecture every run shares (epochs: default 10).
        minutes: equal compute instead of equal epochs: every configuration gets this wall-clock training budget
            (training stops at the first step past it, inside an epoch if need be, and that partial epoch is
            validated; ``epochs`` becomes a maximum, ``BUDGET_MAX_EPOCHS`` when None). The report ranks at this
            budget and plots validation bits/dim against training time.
        k: importance samples for the test log-likelihood (on the first 1000 test images).
        out: directory for report.md, results.json, results.csv and the PNGs.
        verbose: 0 silent; 1 Keras progress bars, messages and the summary table; 2 the same with
            one line per epoch instead of progress bars.
        model: the model family every configuration trains on, one of ``vae_tf.models.MODEL_FAMILIES``:
            ``"vae"`` (a global latent vector of ``latent_dim`` units) or ``"hierarchical"`` (a top-down
            hierarchy of spatial latents, ``HierarchicalVAEConfig()``; ``latent_dim`` does not apply).

    Returns:
        One dict per run, the rows of ``results.json``.
    """
    return run_compare(dataset=dataset, data=data, configs=configs, epochs=epochs, latent_dim=latent_dim, k=k,
                       batch_size=batch_size, seed=seed, out=out, verbose=verbose, minutes=minutes, model=model)


def run_compare(dataset="digits", data=None, configs=None, epochs=None, latent_dim=16, k=100, batch_size=100,
                seed=0, out="runs/compare", verbose=1, train_size=None, test_size=None,
                iwae_examples=DEFAULT_IWAE_EXAMPLES, hidden=None, jit_compile="auto", references=(),
                codecs=True, image_size=None, skip_bad_files=False, network=None, minutes=None, model="vae",
                architecture=None):
    """:func:`vae_tf.compare` with the knobs the CLI's presets also use (subset sizes, IWAE images, hidden
    layers, XLA on or off: its compilation costs seconds per model on a CPU), and
    ``references``: extra rows for the ranked tables (:func:`vae_tf.comparison.report.reference_row`).
    ``codecs``: also rank the classic codecs (gzip, bz2, LZMA, PNG, WebP) and the per-pixel marginals
    on the same integer test images (:func:`vae_tf.comparison.references.reference_rows`).
    ``image_size``, ``skip_bad_files``: how a folder of images ``data`` is read (:func:`vae_tf.data.load_dataset`).
    ``network``: ``"auto"``, ``"mlp"``, ``"conv"`` or ``"resnet"`` for every configuration (None: each
    configuration's own, ``"auto"`` by default; see :func:`vae_tf.networks.choose_network`); ``minutes``: the
    equal wall-clock training budget of every configuration, ``model`` the model family (see :func:`vae_tf.compare`),
    ``architecture`` the hierarchical family's :class:`~vae_tf.HierarchicalVAEConfig` (None: its defaults)."""
    check_model_family(model, network)  # before any work: the data, the codecs
    if minutes is not None:
        minutes = check_positive_number(minutes, "minutes", "of training per configuration")
    epochs = check_positive_int((DEFAULT_EPOCHS if minutes is None else BUDGET_MAX_EPOCHS) if epochs is None else epochs,
                                "epochs")
    k = check_positive_int(k, "k")
    batch_size = check_positive_int(batch_size, "batch_size")
    chosen = resolve_configs(configs, latent_dim=check_positive_int(latent_dim, "latent_dim"))
    if hidden is not None:
        chosen = [c.replace(hidden=tuple(hidden)) for c in chosen]
    if network is not None:
        chosen = [c.replace(network=network) for c in chosen]
    images = load_dataset(dataset, path=data, train_size=train_size, test_size=test_size, image_size=image_size,
                          skip_bad_files=skip_bad_files, log=print if verbose else None)
    if images.num_levels is None and any(c.support_kind == LEVELS or c.dequantized for c in chosen):
        raise ValueError(f"{images.source} has float pixels of unknown quantization: the discretized and dequantized "
                         "configurations need integer grey levels (e.g. uint8 images).")
    os.makedirs(out, exist_ok=True)
    say = print if verbose else (lambda *a, **kw: None)
    say(f"vae-tf compare: {images.describe()}; {count_of(len(chosen), 'configuration')}, "
        f"{training_budget(epochs, minutes)} each.")
    settings = {"dataset": images.name, "data_description": images.describe(),
                "num_dims": int(np.prod(images.event_shape)), "num_levels": images.num_levels,
                "channels": int(images.event_shape[-1]), "configurations": [c.name for c in chosen],
                "minutes": minutes, "max_epochs": epochs,
                "train_examples": len(images.x_train)}
    budget = {"data": images.describe(), "source": images.source, "content": _fingerprint(images), "epochs": epochs,
              "k": k, "batch_size": batch_size, "seed": seed, "iwae_examples": iwae_examples}
    if minutes is not None:  # runs without a budget keep their keys (and resume) as before
        budget["minutes"] = minutes
    if model != "vae":  # as for minutes: the VAE's runs keep their keys
        budget["model"] = model
    if architecture is not None:
        budget["architecture"] = architecture.to_dict()
    earlier = finished_rows(out)
    rows = []

    def save():
        # After every configuration: a stopped run keeps what it finished, and a rerun resumes from it.
        everything = rows + [dict(r) for r in references]
        outputs.save_learning_curves(everything, os.path.join(out, "learning_curves.png"))
        report.write_report(everything, out, settings)
        outputs.write_results(everything, out)  # last: a row in results.json has its report and pictures

    keys = [outputs.run_key(config=config.to_dict(), **budget) for config in chosen]
    # Finished configurations first, wherever they stand in the list: a run stopped before it reached one
    # must not drop it from results.json (a rerun would train it again).
    order = sorted(range(len(chosen)), key=lambda i: keys[i] not in earlier)
    to_train = [i for i in order if keys[i] not in earlier]
    position = {key: n for n, key in enumerate(keys)}  # results.json lists models in the order asked for
    with stopping_on_signals() as stop:
        done, where = 0, "the reference codecs"
        try:
            if codecs:
                rows += _codec_rows(chosen, images, seed, say, earlier)
            for i in order:
                config, key = chosen[i], keys[i]
                where = config.name
                if key in earlier:
                    say(f"\n[{i + 1}/{len(chosen)}] {config.name}: finished in an earlier run with the same data, "
                        f"budget and seed ({os.path.join(out, outputs.RESULTS_JSON)}); kept, not retrained.")
                    row = earlier[key]
                else:
                    say(f"\n[{i + 1}/{len(chosen)}] {config.name}: {config.description}")
                    timing = [EpochSpeed(lambda speed, name=config.name: say(total_time_estimate(
                        speed, name, epochs, len(to_train), k, iwae_examples, images, minutes)))] if i == to_train[0] else []
                    row = _run_one(config, images, epochs, k, batch_size, seed, out, iwae_examples, verbose, say,
                                   jit_compile, minutes, callbacks=timing, family=model, architecture=architecture)
                    row["run_key"] = key
                    # The model is gone with _run_one; drop what Keras and TensorFlow keep globally
                    # (names, graphs), and hand malloc's freed blocks back, so the next configuration starts
                    # from the memory this one did.
                    keras.utils.clear_session()
                    gc.collect()
                    return_freed_memory()
                models = sorted([r for r in rows if r["kind"] == MODEL] + [row], key=lambda r: position[r["run_key"]])
                rows = models + [r for r in rows if r["kind"] != MODEL]
                done += 1
                save()
        except BaseException as error:
            if stop.signal is None:
                raise
            saved = (f"the {count_of(done, 'finished configuration')} {'is' if done == 1 else 'are'} in "
                     f"{os.path.join(out, outputs.RESULTS_JSON)} and report.md" if done else "nothing was finished")
            raise RunInterrupted(f"stopped by {stop.signal} during `{where}`: {saved}; rerun the same command "
                                 "to resume.") from error
    say("\n" + report.text_tables(rows + [dict(r) for r in references]))
    for table, images_are in ((GREY, "integer"), (BINARIZED, "binarized")):
        weak = findings.weak_models_note(rows + [dict(r) for r in references], settings, table, images=images_are)
        if weak:
            say("\n" + weak.strip())
    say(f"\nReport: {os.path.join(out, 'report.md')}")
    return rows + [dict(r) for r in references]


def training_budget(epochs, minutes):
    """``"10 epochs"`` or ``"5 minutes of training (at most 1000 epochs)"``: the budget every configuration gets."""
    if minutes is None:
        return count_of(epochs, "epoch")
    return f"{minutes:g} minute{'s' if minutes != 1 else ''} of training (at most {epochs} epochs)"


def total_time_estimate(speed, name, epochs, configurations, k, iwae_examples, images, minutes=None):
    """The time to train and score the ``configurations`` still to run, said once early in the first of them,
    ``name`` (``speed`` from :class:`vae_tf.callbacks.EpochSpeed`), marked as an estimate::

        configurations x (epochs x epoch + compiling + scoring)     (equal epochs)
        configurations x (minutes + scoring)                        (with ``minutes``: compiling is in the budget)
        compiling = the epochs so far - as many steady epochs
        scoring = validation seconds per image x (k x scored images + scored images + 2 x test images)

    Scoring counts the decoder passes of IWAE (``k`` per scored image), the ELBO, and the reconstructions and KL
    of every test image, each as long as a validation image's ELBO pass. The other configurations' decoders are
    slower or faster than the first's.
    """
    forward = speed["validation"] / max(1, len(images.x_val))
    scored = min(int(iwae_examples), len(images.x_test))
    scoring = forward * (int(k) * scored + scored + 2 * len(images.x_test))
    compiling = max(0.0, speed["elapsed"] - speed["epochs"] * speed["epoch"])
    if minutes is not None:
        total = configurations * (60.0 * minutes + scoring)
        return (f"  Estimated time to train and score {count_of(configurations, 'configuration')}: about "
                f"{format_duration(total)} ({minutes:g} min of training each, plus about {format_duration(scoring)} "
                f"each to score, from the first {count_of(speed['epochs'], 'epoch')} of {name}).")
    total = configurations * (epochs * speed["epoch"] + compiling + scoring)
    return (f"  Estimated time to train and score {count_of(configurations, 'configuration')}: about "
            f"{format_duration(total)} (an estimate from the first "
            f"{'epoch' if speed['epochs'] == 1 else count_of(speed['epochs'], 'epoch')} of {name}: "
            f"{format_duration(speed['epoch'])} per epoch x {count_of(epochs, 'epoch')} x {configurations}, plus about "
            f"{format_duration(compiling + scoring)} each to compile and score; other decoders are slower or faster).")


def _run_one(config, images, epochs, k, batch_size, seed, out, iwae_examples, verbose, say, jit_compile,
             minutes=None, callbacks=(), family="vae", architecture=None):
    keras.utils.set_random_seed(seed)  # same initial weights and data order for every configuration
    row = {"kind": MODEL, "table": BINARIZED if config.binarized else GREY,
           "name": config.name, "description": config.description, "dataset": images.name,
           "likelihood": config.likelihood, "loss": config.loss, "binarized": config.binarized,
           "dequantized": config.dequantized,
           "latent_dim": config.latent_dim, "hidden": list(config.hidden), "epochs": epochs, "max_epochs": epochs,
           "minutes": minutes, "batch_size": batch_size, "seed": seed, "implied_sigma": None, "implied_beta": None}
    if config.loss == "keras_mse":
        row["implied_sigma"] = keras_mse_implied_sigma(images.event_shape)
        row["implied_beta"] = keras_mse_implied_beta(images.event_shape, meant_sigma=1.0)
        say(f'  Keras "mse" + KL = Gaussian decoder with sigma = sqrt(D/2) = {row["implied_sigma"]:.2f}; '
            f'for sigma = 1 that is a hidden beta = D/(2 sigma^2) = {row["implied_beta"]:.0f} on the KL term.')
    with PeakRSS() as peak:
        model = build_model(config, images.event_shape, family=family, seed=seed,
                            num_levels=2 if config.binarized else images.num_levels, architecture=architecture)
        row.update(model=family, latent_dim=int(model.latent_dim))
        splits = prepare_splits(config, model.likelihood, images, seed)
        result = fit_vae(model, config, splits, epochs, batch_size=batch_size, seed=seed, verbose=verbose,
                         jit_compile=jit_compile, minutes=minutes, callbacks=callbacks)
        row["epochs"] = result.epochs_trained  # 3, or 2.4 when the budget cut the last epoch
        if minutes is not None:
            say(f"  trained {count_of(row['epochs'], 'epoch')} in "
                f"{result.seconds:.0f} s of the {minutes:g}-minute budget"
                + ("" if result.stopped_by_budget else f" (stopped at the {epochs}-epoch maximum)"))
        # Scored on the levels themselves (binary for binarized configurations); a continuous density on the
        # same fixed dequantized draw it was validated on (the test seed).
        x_levels = splits.x_test if config.binarized else images.x_test
        row.update(evaluate_configuration(model, config, x_levels, k=k, iwae_examples=iwae_examples,
                                          seed=seed + TEST_SEED_OFFSET))
        row.update(train_seconds=result.seconds, examples_per_second=result.examples_per_second,
                   network=network_name(config, model), parameters=int(model.count_params()),
                   precision=model.precision)
        row.update(_save_pictures(model, config, splits.x_test, out, seed))
    # The process's resident memory at its highest while this configuration ran (vae_tf.long_jobs.PeakRSS).
    row["peak_rss_gib"] = None if peak.gib is None else round(peak.gib, 3)
    row["history"] = {key: result.history[key] for key in ("reconstruction_nll", "kl", "val_reconstruction_nll", "val_kl")}
    row["history"]["elapsed_seconds"] = result.elapsed_seconds
    row["history"]["val_bits_per_dim"] = validation_bits_per_dim(row, images.event_shape, images.num_levels)
    se = "" if row["bits_per_dim_se"] is None else f" +- {row['bits_per_dim_se']:.4f}"
    bits = "n/a" if row["bits_per_dim"] is None else f"{row['bits_per_dim']:.4f}{se} ({row['bits_per_dim_method']})"
    say(f"  on the first {row['scored_examples']} test images: bits/dim {bits}, ELBO {row['test_elbo']:.2f}, "
        f"IWAE(k={k}) {row['test_iwae']:.2f} nats; on all {row['test_examples']}: MSE at z = E[q(z|x)] "
        f"{row['recon_mse']:.4f}, KL {row['kl']:.2f}{report.layer_kl_text(row, ' (', ')')}, active units "
        f"{row['active_units']}/{row['latent_units']}" + ("" if peak.gib is None else f"; peak RSS {peak.gib:.2f} GiB"))
    return row


def evaluate_configuration(model, config, x_levels, k=1000, iwae_examples=1000, seed=0, verbose=0):
    """One configuration's test numbers (:func:`vae_tf.evaluation.held_out_metrics`), and for a fixed-sigma
    (MSE-trained) model ``optimal_sigma = sqrt(recon_mse)`` and ``bits_per_dim_at_optimal_sigma``, its decoder
    means scored at that sigma on the images IWAE scored (:mod:`vae_tf.evaluation.scores`), so an
    MSE-trained model is judged on its best Gaussian, as one that learned sigma is."""
    row = held_out_metrics(model, x_levels, k=k, iwae_examples=iwae_examples, seed=seed, verbose=verbose)
    row.update(optimal_sigma=None, bits_per_dim_at_optimal_sigma=None)
    if config.fixed_sigma:
        row["optimal_sigma"], row["bits_per_dim_at_optimal_sigma"] = bits_per_dim_at_optimal_sigma(
            model, x_levels[:iwae_examples], row["recon_mse"], k=k, seed=seed, verbose=verbose)
    return row


def _codec_rows(configs, images, seed, say, earlier):
    """Reference rows for each table that has models: the integer test images the models are scored on
    (kept from an earlier run on the same data, ``earlier``, when there is one)."""
    rows = []
    for table in (GREY, BINARIZED):
        images_are = "integer" if table == GREY else "binarized"
        if table == GREY and (images.num_levels is None or all(c.binarized for c in configs)):
            continue
        if table == BINARIZED and not any(c.binarized for c in configs):
            continue
        key = outputs.run_key(table=table, data=images.describe(), source=images.source, seed=seed,
                                    codecs=DESCRIPTIONS)  # names and settings
        kept = [r for r in earlier.values() if r.get("codec_key") == key]
        if kept:
            say(f"Reference codecs on the {images_are} test images: kept from an earlier run.")
            rows += kept
            continue
        say(f"\nReference codecs on the {images_are} test images ...")
        if table == GREY:
            levels = images.num_levels
            dtype = smallest_level_dtype(levels)  # uint8 for 8-bit images: a quarter of int32's memory
            found = reference_rows(grey_levels(images.x_test, levels, dtype), grey_levels(images.x_train, levels, dtype),
                                   levels, table=GREY)
        else:
            test = binarize_static(images.x_test, seed + TEST_SEED_OFFSET).astype("uint8")
            found = reference_rows(test, None, 2, table=BINARIZED)
        for i, r in enumerate(found):
            r.update(codec_key=key, run_key=f"{key}-{i}")
        rows += found
    return rows


def _fingerprint(images):
    """A hash of the pixels a run sees (every test image, the first training images): same name, same data."""
    digest = hashlib.sha256(np.ascontiguousarray(images.x_test).tobytes())
    digest.update(np.ascontiguousarray(images.x_train[:1000]).tobytes())
    digest.update(str((images.x_train.shape, images.x_val.shape)).encode())
    return digest.hexdigest()[:16]


def network_name(config, model=None):
    """The encoder / decoder family a configuration builds, as the report names it: ``MLP (200, 200)``,
    or ``conv`` / ``resnet`` for the model's convolutional networks (:func:`vae_tf.networks.network_kind`); a model
    of another family describes itself (``model.describe()``: a hierarchy names its latent layers)."""
    if model is not None and not isinstance(model, VAE):
        return model.describe()
    kind = "mlp" if model is None else network_kind(model.encoder, model.decoder)
    return f"MLP {tuple(config.hidden)}" if kind == "mlp" else kind


def validation_bits_per_dim(row, event_shape, num_levels):
    """Per epoch, the validation negative ELBO ``reconstruction_nll + kl`` in bits/dim of the integer image
    (an upper bound on the bits/dim; plus ``log2 L`` for a density on dequantized data); None without a likelihood."""
    if row["bits_per_dim_method"] is None:
        return None
    h = row["history"]
    d = int(np.prod(event_shape))
    neg_elbo = np.asarray(h["val_reconstruction_nll"]) + np.asarray(h["val_kl"])
    offset = d * np.log(num_levels) if row["bits_per_dim_method"] == DEQUANTIZED_BOUND else 0.0
    return [float(v) for v in nats_to_bits_per_dim(-(neg_elbo + offset), d)]


def _save_pictures(model, config, x_test, out, seed, n=8):
    """Originals over reconstructions (two rows of ``n``), and ``n x n`` samples (decoder means)."""
    originals = x_test[: 2 * n]
    recon = model.reconstruct(originals).numpy()
    pairs = np.concatenate([originals[:n], recon[:n], originals[n:], recon[n:]])
    names = {"reconstructions_png": f"{config.name}_reconstructions.png", "samples_png": f"{config.name}_samples.png"}
    outputs.save_grid(os.path.join(out, names["reconstructions_png"]), pairs, n,
                    f"{config.name}: rows 1, 3 test images; rows 2, 4 reconstructions")
    outputs.save_grid(os.path.join(out, names["samples_png"]), model.sample(n * n, seed=seed).numpy(), n,
                    f"{config.name}: decoder means of z ~ p(z)")
    return names

