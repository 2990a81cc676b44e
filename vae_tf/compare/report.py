"""The files ``vae-tf compare`` writes: results.json / .csv, report.md, PNG grids and learning curves.

Rows are dicts. ``kind`` is :data:`MODEL` (a trained configuration) or :data:`REFERENCE` (a number
from elsewhere, e.g. a classic codec's bits/dim, made with :func:`reference_row`); ``table`` is
:data:`GREY` (the grey-level images, ranked by bits/dim) or :data:`BINARIZED` (binarized images:
a different dataset, its own table).
"""

import csv
import json
import math
import os

import numpy as np

MODEL, REFERENCE = "model", "reference"
GREY, BINARIZED = "grey", "binarized"

#: (key, header, format) of the ranked grey-level table, in order.
GREY_COLUMNS = [
    ("rank", "rank", "{}"),
    ("name", "configuration", "{}"),
    ("bits_per_dim", "bits/dim", "{:.4f}"),
    ("bits_per_dim_method", "bits/dim is", "{}"),
    ("bits_per_dim_at_optimal_sigma", "bits/dim at optimal sigma", "{:.4f}"),
    ("log_prob", "test log P(x) nats", "{:.1f}"),
    ("recon_mse", "recon. MSE", "{:.4f}"),
    ("kl", "KL", "{:.2f}"),
    ("active_units", "active units", "{}"),
    ("train_seconds", "train s", "{:.1f}"),
]
#: (key, header, format) of the binarized table.
BINARIZED_COLUMNS = [
    ("rank", "rank", "{}"),
    ("name", "configuration", "{}"),
    ("bits_per_dim", "bits/dim", "{:.4f}"),
    ("test_iwae", "test log p(x) IWAE", "{:.2f}"),
    ("test_elbo", "test ELBO", "{:.2f}"),
    ("recon_mse", "recon. MSE", "{:.4f}"),
    ("kl", "KL", "{:.2f}"),
    ("active_units", "active units", "{}"),
    ("train_seconds", "train s", "{:.1f}"),
]

#: The scalar columns of results.csv (results.json also holds each run's learning curves).
CSV_FIELDS = [
    "kind", "table", "name", "description", "dataset", "likelihood", "loss", "binarized", "dequantized", "latent_dim",
    "epochs", "batch_size", "seed", "bits_per_dim", "bits_per_dim_method", "no_bits_reason", "log_prob", "test_elbo",
    "test_iwae", "iwae_k", "iwae_examples", "recon_mse", "kl", "active_units", "decoder_sigma", "optimal_sigma",
    "bits_per_dim_at_optimal_sigma", "implied_sigma", "implied_beta", "train_seconds", "examples_per_second",
    "reconstructions_png", "samples_png",
]


def reference_row(name, bits_per_dim, description="", table=GREY, **extra):
    """A row that is not a trained model (e.g. a classic codec's rate) for the ranked table of ``table``."""
    return {"kind": REFERENCE, "table": table, "name": name, "description": description,
            "bits_per_dim": float(bits_per_dim), "bits_per_dim_method": "reference", **extra}


def _cell(value, fmt):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return fmt.format(value)


def ranked(rows, table=GREY):
    """The rows of ``table``, best (lowest) bits/dim first, rows without bits/dim last; each gets ``rank``."""
    chosen = [r for r in rows if r.get("table", GREY) == table]
    with_bits = sorted((r for r in chosen if r.get("bits_per_dim") is not None), key=lambda r: r["bits_per_dim"])
    without = [r for r in chosen if r.get("bits_per_dim") is None]
    out = [{**r, "rank": i} for i, r in enumerate(with_bits, 1)]
    return out + [{**r, "rank": None} for r in without]


def table_rows(rows, columns):
    return [[h for _, h, _ in columns]] + [[_cell(r.get(k), f) for k, _, f in columns] for r in rows]


def markdown_table(rows, columns=GREY_COLUMNS):
    cells = table_rows(rows, columns)
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join(" --- " for _ in cells[0]) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


def text_table(rows, columns=GREY_COLUMNS):
    cells = table_rows(rows, columns)
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    fmt = lambda r: "  ".join(c.ljust(w) if i <= 1 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([fmt(cells[0]), "  ".join("-" * w for w in widths)] + [fmt(r) for r in cells[1:]])


def text_tables(rows):
    """Both tables for the console: grey levels ranked by bits/dim, then binarized."""
    parts = []
    grey, binarized = ranked(rows, GREY), ranked(rows, BINARIZED)
    if grey:
        parts.append("Grey levels, ranked by test bits/dim (lower is better):\n" + text_table(grey, GREY_COLUMNS))
    if binarized:
        parts.append("Binarized images (a different dataset):\n" + text_table(binarized, BINARIZED_COLUMNS))
    return "\n\n".join(parts)


def write_results(rows, out):
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(rows, f, indent=2)
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if r.get(k) is None else r.get(k) for k in CSV_FIELDS})


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def image_grid(images, rows, cols):
    """``(rows*cols, H, W, 1)`` images in [0, 1] tiled into one ``(rows*H, cols*W)`` array."""
    images = np.clip(np.asarray(images)[..., 0], 0, 1)
    h, w = images.shape[1:3]
    grid = np.ones((rows * h, cols * w), np.float32)
    for i, img in enumerate(images[: rows * cols]):
        r, c = divmod(i, cols)
        grid[r * h:(r + 1) * h, c * w:(c + 1) * w] = img
    return grid


def save_grid(path, grid, title):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4, 4 * grid.shape[0] / grid.shape[1] + 0.4))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def save_learning_curves(rows, path):
    """Validation bits/dim per epoch (the negative ELBO of the integer image; grey levels and binarized
    apart) and the validation KL, every trained run."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    models = [r for r in rows if r.get("kind", MODEL) == MODEL]
    for ax, table in zip(axes[:2], (GREY, BINARIZED)):
        for r in models:
            curve = r["history"].get("val_bits_per_dim")
            if r["table"] == table and curve:
                ax.plot(np.arange(1, len(curve) + 1), curve, marker=".", label=r["name"])
        ax.set(xlabel="epoch", ylabel="bits / dim",
               title=f"validation -ELBO, {'grey levels' if table == GREY else 'binarized'} (bits/dim)")
        if ax.get_legend_handles_labels()[0]:
            ax.set_yscale("log")
            ax.legend(fontsize=7)
    for r in models:
        h = r["history"]
        axes[2].plot(np.arange(1, len(h["val_kl"]) + 1), h["val_kl"], marker=".", label=r["name"])
    axes[2].set(xlabel="epoch", ylabel="nats / image", title="validation KL(q(z|x) || p(z))")
    fig.tight_layout()
    fig.savefig(path, dpi=64)
    plt.close(fig)


def _agreement(rows):
    by = {r["name"]: r for r in rows}
    a, b = by.get("bin_bernoulli_nll"), by.get("bin_bernoulli_bce")
    if not (a and b):
        return ""
    diffs = {k: abs(a[k] - b[k]) for k in ("test_elbo", "test_iwae", "kl")}
    return (
        "**Bernoulli + NLL vs Bernoulli + BCE on binarized pixels.** For binary x, "
        "`BinaryCrossentropy` summed over pixels *is* `-log Bernoulli(x; sigmoid(l))`, so the two runs "
        "optimise the same objective from the same initialisation and data order. Their rows differ by "
        f"{diffs['test_elbo']:.3f} nats (ELBO), {diffs['test_iwae']:.3f} nats (IWAE) and {diffs['kl']:.3f} "
        "nats (KL): floating-point noise, not a modelling difference.\n"
    )


def ranking_in_words(rows, num_dims, table=GREY):
    """The ranking said in sentences: which model wins, by how much, where the MSE losses land, and
    where the best model stands among the reference codecs."""
    everything = [r for r in ranked(rows, table) if r["rank"] is not None]
    models = [r for r in everything if r.get("kind", MODEL) == MODEL]
    if not models:
        return ""
    best = models[0]

    def gap(r):
        diff = r["bits_per_dim"] - best["bits_per_dim"]
        return f"{diff:.3f} bits/dim ({diff * num_dims / 8:.1f} bytes per image) behind"

    words = [f"**Ranking.** Of the {len(models)} models, `{best['name']}` models the test images best, at "
             f"{best['bits_per_dim']:.4f} bits/dim ({best['bits_per_dim_method']})"]
    if len(models) > 1:
        words.append(f"; the runner-up `{models[1]['name']}` is {gap(models[1])}")
    words.append(". ")
    mse = [r for r in models if r.get("loss") in ("scaled_mse", "keras_mse")]
    if mse and mse[0]["name"] != best["name"]:
        top = mse[0]
        words.append(f"The best MSE-trained model, `{top['name']}`, ranks {models.index(top) + 1} of {len(models)}, "
                     f"{gap(top)}")
        if top.get("bits_per_dim_at_optimal_sigma") is not None:
            words.append(f"; its decoder means at the optimal sigma would score "
                         f"{top['bits_per_dim_at_optimal_sigma']:.4f} bits/dim")
        words.append(". ")
    bound = [r for r in models if r.get("bits_per_dim_method") == "dequantized bound"]
    if bound and bound[0]["name"] != best["name"]:
        top = bound[0]
        words.append(f"The best continuous density on dequantized data, `{top['name']}`, ranks "
                     f"{models.index(top) + 1}, {gap(top)} (its number is an upper bound on its bits/dim). ")
    worst = models[-1]
    if worst["name"] != best["name"]:
        words.append(f"Last is `{worst['name']}` at {worst['bits_per_dim']:.4f} bits/dim. ")
    references = [r for r in everything if r.get("kind") == REFERENCE]
    if references:
        beaten = [r["name"] for r in references if r["bits_per_dim"] > best["bits_per_dim"]]
        ahead = [r["name"] for r in references if r["bits_per_dim"] <= best["bits_per_dim"]]
        words.append(f"**Against the references** (not models: classic codecs and per-pixel marginals on the same "
                     f"integer test images), `{best['name']}` ranks {best['rank']} of {len(everything)}")
        if beaten:
            words.append(f"; it needs fewer bits than {', '.join(beaten)}")
        if ahead:
            words.append(f"; {', '.join(ahead)} {'does' if len(ahead) == 1 else 'do'} better "
                         f"(by {best['bits_per_dim'] - references[0]['bits_per_dim']:.3f} bits/dim for the best, "
                         f"{references[0]['name']})")
        words.append(".")
    return "".join(words).strip() + "\n"


def write_report(rows, out, settings):
    """``report.md``: the ranked grey-level table, the binarized table, the ranking in words, how to read them."""
    models = [r for r in rows if r.get("kind", MODEL) == MODEL]
    first = models[0]
    d = int(settings["num_dims"])
    levels = settings.get("num_levels")
    grey, binarized = ranked(rows, GREY), ranked(rows, BINARIZED)
    lines = [
        f"# vae-tf compare: {settings['dataset']}",
        "",
        f"Data: {settings['data_description']}. Every run: MLP encoder/decoder with hidden layers "
        f"{tuple(first['hidden'])}, latent_dim={first['latent_dim']}, {first['epochs']} epochs, batch size "
        f"{first['batch_size']}, Adam(1e-3), seed {first['seed']}. Bits/dim of the D = {d} pixels from IWAE with "
        f"k={first['iwae_k']} on the first {first['iwae_examples']} test images; other test numbers over all of them.",
        "",
    ]
    if grey:
        lines += [f"## Grey levels ({levels} levels), ranked by test bits/dim (lower is better)", "",
                  markdown_table(grey, GREY_COLUMNS), "", ranking_in_words(rows, d)]
        for r in grey:
            if r.get("no_bits_reason"):
                lines.append(f"`{r['name']}` has no bits/dim: {r['no_bits_reason']}.\n")
    if binarized:
        lines += ["## Binarized images (a different dataset: one fixed Bernoulli draw of the test images)", "",
                  markdown_table(binarized, BINARIZED_COLUMNS), "", ranking_in_words(rows, d, BINARIZED)]
    lines += ["Configurations:", ""]
    lines += [f"- `{r['name']}`: {r['description']}" for r in rows]
    lines += ["", "## How to read this", ""]
    lines += [
        "- **bits/dim** `= -log2 P(x) / D` of the integer image: what a lossless code built from the model would "
        "spend per pixel, never negative, lower is better. It puts every likelihood on one scale.",
        "- **exact**: the decoder is a distribution over the grey levels (discretized Gaussian, discretized "
        "logistic mixture, categorical; Bernoulli on binary pixels), so `P(x)` is the probability of the image "
        "itself (estimated by IWAE, a lower bound that tightens with k).",
        "- **dequantized bound**: a continuous density p (Gaussian, continuous Bernoulli) is scored on one fixed "
        "draw `(k + u) / L`, `u ~ U[0, 1)`: `log P(k) >= E_u[log p((k + u) / L)] - D log L` (Theis et al., 2016), "
        "so its bits/dim is an upper bound on the true one. A model trained on the raw grey values "
        "(`*_raw`) is scored in the same way: a density that spiked on the grey levels pays for it here.",
        "- **bits/dim at optimal sigma** (fixed-sigma rows only): the same decoder means with the shared sigma set "
        "to `sqrt(test MSE)`. An MSE loss fixes sigma; this column judges its means fairly against a model that "
        "learned sigma.",
        "- **test log P(x) nats**: `log P(x)` per image (exact or the bound), `-bits/dim * D * ln 2`.",
        "- **active units**: latent dimensions j with `Var_x(E_q[z_j|x]) > 0.01`. Few active units means the "
        "KL term won (posterior collapse).",
        "- **recon. MSE**: per-pixel squared error of the decoder mean at the posterior mean; **train s** is the "
        "whole fit (validation included).",
        "",
    ]
    for r in models:
        if r.get("implied_sigma"):
            lines.append(
                f"**The Keras `\"mse\"` pitfall (`{r['name']}`).** Keras' `\"mse\"` averages over the D = {d} pixels: "
                f"`mean-MSE + KL` is a Gaussian decoder with sigma = sqrt(D/2) = {r['implied_sigma']:.2f}, i.e. relative "
                f"to the sigma = 1 you probably meant, a hidden KL weight beta = D / (2 sigma^2) = {r['implied_beta']:.0f}. "
                f"It ends with {r['active_units']} active latent units and a reconstruction MSE of {r['recon_mse']:.4f}.\n")
    agreement = _agreement(rows)
    if agreement:
        lines.append(agreement)
    lines += [
        "## Files",
        "",
        "- `results.json` (every number and each run's learning curves), `results.csv` (the numbers)",
        "- `learning_curves.png`: validation negative ELBO in bits/dim and KL per epoch, all runs",
    ]
    lines += [f"- `{r['reconstructions_png']}`, `{r['samples_png']}`" for r in models]
    lines += ["", "![learning curves](learning_curves.png)", ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines))
