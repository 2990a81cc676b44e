"""What a comparison writes besides the report: ``results.json`` (every row, every number, each run's learning
curves), ``results.csv`` (the scalar columns) and the pictures (image grids, learning curves). All are rewritten
atomically after every configuration, so a stopped run keeps what it finished. Each row carries ``run_key``, a
hash of everything that decides its numbers (the data, the configuration, the budget, the seed): a rerun of the
same command finds its finished rows by that key (:func:`finished_rows`) and skips them.
"""

import csv
import hashlib
import json
import math
import os

import numpy as np

from vae_tf.atomic_files import atomic_path
from vae_tf.comparison.findings import BINARIZED, GREY, MODEL
from vae_tf.callbacks import image_grid


RESULTS_JSON, RESULTS_CSV = "results.json", "results.csv"

#: The scalar columns of results.csv (results.json also holds each run's learning curves).
CSV_FIELDS = [
    "kind", "table", "name", "description", "dataset", "likelihood", "loss", "binarized", "dequantized", "latent_dim",
    "epochs", "batch_size", "seed", "bits_per_dim", "bits_per_dim_se", "bits_per_dim_method", "no_bits_reason",
    "log_prob", "test_elbo", "test_iwae", "iwae_k", "iwae_examples", "scored_examples", "test_examples", "recon_mse",
    "mean_image_mse", "kl", "active_units", "decoder_sigma", "optimal_sigma", "bits_per_dim_at_optimal_sigma",
    "implied_sigma", "implied_beta", "network", "parameters", "train_seconds", "examples_per_second", "max_epochs",
    "minutes", "peak_rss_gib", "model", "latent_units",
    "reconstructions_png", "samples_png", "run_key",
]


def run_key(**decides):
    """A short hash of the JSON of ``decides`` (what decides a row's numbers): equal settings, equal key."""
    blob = json.dumps(decides, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def read_results(out):
    """The rows of ``out/results.json``, or ``[]`` when there is none (or it is not a list of rows)."""
    path = os.path.join(out, RESULTS_JSON)
    try:
        with open(path) as f:
            rows = json.load(f)
    except (OSError, ValueError):
        return []
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def finished_rows(out):
    """``{run_key: row}`` of the rows an earlier run wrote into ``out``."""
    return {r["run_key"]: r for r in read_results(out) if r.get("run_key")}


def write_results(rows, out):
    """``results.json`` and ``results.csv`` in ``out``, each replaced atomically."""
    with atomic_path(os.path.join(out, RESULTS_JSON)) as tmp, open(tmp, "w") as f:
        json.dump(rows, f, indent=2)
    with atomic_path(os.path.join(out, RESULTS_CSV)) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if r.get(k) is None else r.get(k) for k in CSV_FIELDS})


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path, dpi):
    """``fig`` to ``path`` atomically (a stopped run never leaves half a PNG), then closed."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight")
    _plt().close(fig)


#: A picture tile is drawn at least this many pixels high and wide: a small image is scaled up by a whole factor,
#: nearest neighbour (every pixel a square of equal pixels), never drawn smaller than its own size.
MIN_TILE_PIXELS = 64


def _title_lines(title, font, width):
    """``title`` broken at spaces into lines no wider than ``width`` pixels (a word wider than that stays whole)."""
    lines = [""]
    for word in title.split():
        candidate = f"{lines[-1]} {word}".strip()
        if font.getlength(candidate) <= width or not lines[-1]:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def save_grid(path, images, columns, title):
    """``images`` ``(n, H, W, C)`` tiled ``columns`` wide (:func:`vae_tf.callbacks.image_grid`) into a PNG at ``path``,
    ``title`` above: grey for one channel, RGB for three (no channel dropped or averaged). Each image keeps every
    pixel: scaled up by ``ceil(MIN_TILE_PIXELS / min(H, W))`` (nearest neighbour), never down."""
    from PIL import Image, ImageDraw, ImageFont

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"save_grid shows (n, H, W, 1) grey or (n, H, W, 3) RGB images, got {images.shape}.")
    factor = max(1, math.ceil(MIN_TILE_PIXELS / min(images.shape[1:3])))
    grid = image_grid(images, columns, pad=0)
    grid = np.repeat(np.repeat(grid, factor, axis=0), factor, axis=1)
    pixels = np.round(grid * 255).astype(np.uint8)
    picture = Image.fromarray(pixels[..., 0], "L") if pixels.shape[-1] == 1 else Image.fromarray(pixels, "RGB")
    font = ImageFont.load_default(size=12)
    lines = _title_lines(title, font, picture.width - 8)
    band = 16 * len(lines) + 4
    canvas = Image.new(picture.mode, (picture.width, picture.height + band), 255 if picture.mode == "L" else (255,) * 3)
    canvas.paste(picture, (0, band))
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text((4, 2 + 16 * i), line, fill=0 if picture.mode == "L" else (0, 0, 0), font=font)
    with atomic_path(path, suffix=".png") as tmp:
        canvas.save(tmp, format="PNG")


def save_learning_curves(rows, path):
    """:func:`learning_curves_figure` of ``rows`` as a PNG at ``path``."""
    _save(learning_curves_figure(rows), path, dpi=64)


def training_minutes(row):
    """Minutes of training (wall clock, validation included) at the end of each epoch of a run: from its recorded
    ``elapsed_seconds``, or, for rows written before they were recorded, its training time spread evenly."""
    h = row["history"]
    n = len(h["val_kl"])
    elapsed = h.get("elapsed_seconds")
    if not elapsed:
        elapsed = [row.get("train_seconds", n) * (i + 1) / n for i in range(n)]
    return np.asarray(elapsed[:n], np.float64) / 60.0


def learning_curves_figure(rows):
    """Validation bits/dim against training time (the negative ELBO of the integer image; integer and binarized
    images apart, a panel only for a table that has runs) and the validation KL, every trained run, one point per
    epoch: at equal compute the ranking at any budget is read off a vertical line. One legend below the panels."""
    from matplotlib.ticker import LogLocator, ScalarFormatter

    plt = _plt()
    models = [r for r in rows if r.get("kind", MODEL) == MODEL]
    tables = [t for t in (GREY, BINARIZED) if any(r["table"] == t and r["history"].get("val_bits_per_dim")
                                                  for r in models)]
    fig, axes = plt.subplots(1, len(tables) + 1, figsize=(4.4 * (len(tables) + 1), 3.8), squeeze=False)
    axes = list(axes[0])
    # One colour per run, the same in every panel (tab20 once the ten default colours run out).
    palette = plt.get_cmap("tab10" if len(models) <= 10 else "tab20")
    colours = {r["name"]: palette(i % palette.N) for i, r in enumerate(models)}
    for ax, table in zip(axes[:-1], tables):
        for r in models:
            curve = r["history"].get("val_bits_per_dim")
            if r["table"] == table and curve:
                ax.plot(training_minutes(r), curve, marker=".", color=colours[r["name"]], label=r["name"])
        ax.set(xlabel="training time (minutes, wall clock)", ylabel="bits / dim",
               title=f"validation -ELBO, {'integer' if table == GREY else 'binarized'} images (bits/dim)")
        if ax.get_legend_handles_labels()[0]:
            ax.set_yscale("log")
            # Plain numbers on the log axis (3.6, not 3.6x10^0), at a few readable positions.
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)))
            ax.yaxis.set_minor_locator(LogLocator(base=10, subs=np.arange(1, 10)))
            formatter = ScalarFormatter()
            formatter.set_scientific(False)
            ax.yaxis.set_major_formatter(formatter)
            ax.yaxis.set_minor_formatter(plt.NullFormatter())
    for r in models:
        axes[-1].plot(training_minutes(r), r["history"]["val_kl"], marker=".", color=colours[r["name"]],
                      label=r["name"])
    axes[-1].set(xlabel="training time (minutes, wall clock)", ylabel="nats / image",
                 title="validation KL(q(z|x) || p(z))")
    for ax in axes:
        ax.set_xlim(left=0)
    handles, labels = axes[-1].get_legend_handles_labels()
    if handles:
        # One legend for the panels (same colour, same run), below them: it covers no curve.
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(5, len(labels)),
                   fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
