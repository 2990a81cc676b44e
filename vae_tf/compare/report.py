"""The files ``vae-tf compare`` writes: results.json / .csv, report.md, PNG grids and learning curves."""

import csv
import json
import math
import os

import numpy as np

#: (key, header, format) of the summary table, in order.
COLUMNS = [
    ("name", "configuration", "{}"),
    ("test_elbo", "test ELBO", "{:.2f}"),
    ("test_iwae", "test log p(x) IWAE", "{:.2f}"),
    ("iwae_at_optimal_sigma", "log p(x) at optimal sigma", "{:.2f}"),
    ("recon_mse", "recon. MSE", "{:.4f}"),
    ("bits_per_dim", "bits/dim", "{:.4f}"),
    ("kl", "KL", "{:.2f}"),
    ("active_units", "active units", "{}"),
    ("train_seconds", "train s", "{:.1f}"),
    ("examples_per_second", "examples/s", "{:.0f}"),
]

#: The scalar columns of results.csv (results.json also holds each run's learning curves).
CSV_FIELDS = [
    "name", "description", "dataset", "likelihood", "loss", "binarized", "latent_dim", "epochs", "batch_size",
    "seed", "test_elbo", "test_iwae", "iwae_k", "iwae_examples", "recon_mse", "bits_per_dim", "kl",
    "active_units", "decoder_sigma", "optimal_sigma", "elbo_at_optimal_sigma", "iwae_at_optimal_sigma",
    "implied_sigma", "implied_beta", "train_seconds", "examples_per_second", "reconstructions_png", "samples_png",
]


def _cell(value, fmt):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return fmt.format(value)


def table_rows(rows):
    return [[h for _, h, _ in COLUMNS]] + [[_cell(r.get(k), f) for k, _, f in COLUMNS] for r in rows]


def markdown_table(rows):
    cells = table_rows(rows)
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join(" --- " for _ in cells[0]) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


def text_table(rows):
    cells = table_rows(rows)
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([fmt(cells[0]), "  ".join("-" * w for w in widths)] + [fmt(r) for r in cells[1:]])


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
    """Validation ``reconstruction_nll`` (symlog: Gaussian NLLs can be negative) and ``kl`` per epoch, all runs."""
    plt = _plt()
    fig, (ax_nll, ax_kl) = plt.subplots(1, 2, figsize=(11, 4))
    for r in rows:
        h = r["history"]
        epochs = np.arange(1, len(h["val_reconstruction_nll"]) + 1)
        ax_nll.plot(epochs, h["val_reconstruction_nll"], marker=".", label=r["name"])
        ax_kl.plot(epochs, h["val_kl"], marker=".", label=r["name"])
    ax_nll.set_yscale("symlog", linthresh=10)
    ax_nll.set(xlabel="epoch", ylabel="nats / image", title="validation -log p(x|z) (reconstruction_nll)")
    ax_kl.set(xlabel="epoch", ylabel="nats / image", title="validation KL(q(z|x) || p(z))")
    ax_kl.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
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


def write_report(rows, out, settings):
    """``report.md``: the table, what each column means, and how to read it."""
    first = rows[0]
    d = int(settings["num_dims"])
    mse_rows = [r for r in rows if r.get("implied_sigma")]
    lines = [
        f"# vae-tf compare: {settings['dataset']}",
        "",
        f"Data: {settings['data_description']}. Every run: MLP encoder/decoder with hidden layers "
        f"{tuple(first['hidden'])}, latent_dim={first['latent_dim']}, {first['epochs']} epochs, batch size "
        f"{first['batch_size']}, Adam(1e-3), seed {first['seed']}. Test numbers in nats per image "
        f"(D = {d} pixels); IWAE with k={first['iwae_k']} on the first {first['iwae_examples']} test images.",
        "",
        markdown_table(rows),
        "",
        "Configurations:",
        "",
    ]
    lines += [f"- `{r['name']}`: {r['description']}" for r in rows]
    lines += ["", "## How to read this", ""]
    lines += [
        "- **test ELBO** is `log p(x|z) - KL(q(z|x) || p(z))` with one `z ~ q(z|x)`; **test log p(x) IWAE** is the "
        "importance-weighted bound `log (1/k) sum_i p(x, z_i) / q(z_i|x)`, tighter as k grows. Both are "
        "under the decoder the model was trained with, *including its sigma*.",
        "- **Densities of different kinds are not comparable.** A Gaussian (or continuous Bernoulli) "
        "log-likelihood of grey-level pixels is a *density* on [0, 1]^D (or R^D) and can be positive; a Bernoulli "
        "log-likelihood of binarized pixels is the log of a *probability* and is always <= 0. Compare rows within "
        "the same data representation and density family only. The Bernoulli decoder trained with BCE on grey "
        "values is not a normalised density on [0, 1] at all (the continuous Bernoulli adds the missing "
        "`log C(p)`), so its log-likelihood is not comparable with any density row.",
        "- **log p(x) at optimal sigma** (fixed-sigma Gaussians only): the decoder means kept, the shared sigma set "
        "to its maximum-likelihood value `sigma^2 = test MSE`. An MSE-trained model's own log-likelihood is ruined by "
        "an arbitrary sigma; this column judges its means fairly against a model that learned sigma by NLL.",
        "- **bits/dim** `= -log2 p(x) / D` is given only for binarized data, where p is a probability. For grey "
        "values a density is not a probability of an 8-bit image: that needs a discretised likelihood or "
        "dequantisation, which these decoders do not model, so the column reads n/a.",
        "- **active units**: latent dimensions j with `Var_x(E_q[z_j|x]) > 0.01`. Few active units means the "
        "KL term won (posterior collapse).",
        "- **recon. MSE**: per-pixel squared error of the decoder mean at the posterior mean; **train s** is the "
        "whole fit (validation included), **examples/s** training images per second of training phase.",
        "",
    ]
    for r in mse_rows:
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
        "- `learning_curves.png`: validation reconstruction NLL and KL per epoch, all runs",
    ]
    lines += [f"- `{r['reconstructions_png']}`, `{r['samples_png']}`" for r in rows]
    lines += ["", "![learning curves](learning_curves.png)", ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines))
