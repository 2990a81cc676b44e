"""The ranked tables of a comparison, as Markdown (report.md) and as text (the console)."""

import math

from vae_tf.compare.rows import BINARIZED, GREY, ranked

#: (key, header, format) of the ranked grey-level table, in order.
GREY_COLUMNS = [
    ("rank", "rank", "{}"),
    ("name", "configuration", "{}"),
    ("bits_per_dim", "bits/dim", "{:.4f}"),
    ("bits_per_dim_se", "± s.e.", "{:.4f}"),
    ("bits_per_dim_method", "bits/dim is", "{}"),
    ("bits_per_dim_at_optimal_sigma", "bits/dim at optimal sigma", "{:.4f}"),
    ("log_prob", "test log P(x) nats", "{:.1f}"),
    ("recon_mse", "MSE at z = posterior mean", "{:.4f}"),
    ("kl", "KL", "{:.2f}"),
    ("active_units", "active units", "{}"),
    ("train_seconds", "train s", "{:.1f}"),
]
#: (key, header, format) of the binarized table.
BINARIZED_COLUMNS = [
    ("rank", "rank", "{}"),
    ("name", "configuration", "{}"),
    ("bits_per_dim", "bits/dim", "{:.4f}"),
    ("bits_per_dim_se", "± s.e.", "{:.4f}"),
    ("test_iwae", "test log p(x) IWAE", "{:.2f}"),
    ("test_elbo", "test ELBO", "{:.2f}"),
    ("recon_mse", "MSE at z = posterior mean", "{:.4f}"),
    ("kl", "KL", "{:.2f}"),
    ("active_units", "active units", "{}"),
    ("train_seconds", "train s", "{:.1f}"),
]


def _cell(value, fmt):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return fmt.format(value)


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
    """Both tables for the console: integer images ranked by bits/dim, then binarized."""
    parts = []
    grey, binarized = ranked(rows, GREY), ranked(rows, BINARIZED)
    if grey:
        parts.append("Integer images, ranked by test bits/dim (lower is better):\n" + text_table(grey, GREY_COLUMNS))
    if binarized:
        parts.append("Binarized images (a different dataset):\n" + text_table(binarized, BINARIZED_COLUMNS))
    return "\n\n".join(parts)


