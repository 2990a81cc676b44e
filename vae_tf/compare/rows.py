"""The rows of a comparison: trained models and reference numbers, in the table they belong to, ranked.

Rows are dicts. ``kind`` is :data:`MODEL` (a trained configuration) or :data:`REFERENCE` (a number
from elsewhere, e.g. a classic codec's bits/dim, made with :func:`reference_row`); ``table`` is
:data:`GREY` (the grey-level images, ranked by bits/dim) or :data:`BINARIZED` (binarized images:
a different dataset, its own table).
"""

MODEL, REFERENCE = "model", "reference"
GREY, BINARIZED = "grey", "binarized"


def reference_row(name, bits_per_dim, description="", table=GREY, **extra):
    """A row that is not a trained model (e.g. a classic codec's rate) for the ranked table of ``table``."""
    return {"kind": REFERENCE, "table": table, "name": name, "description": description,
            "bits_per_dim": float(bits_per_dim), "bits_per_dim_method": "reference", **extra}


def ranked(rows, table=GREY):
    """The rows of ``table``, best (lowest) bits/dim first, rows without bits/dim last; each gets ``rank``."""
    chosen = [r for r in rows if r.get("table", GREY) == table]
    with_bits = sorted((r for r in chosen if r.get("bits_per_dim") is not None), key=lambda r: r["bits_per_dim"])
    without = [r for r in chosen if r.get("bits_per_dim") is None]
    out = [{**r, "rank": i} for i, r in enumerate(with_bits, 1)]
    return out + [{**r, "rank": None} for r in without]


