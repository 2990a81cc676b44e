"""The machine-readable results of a comparison, and what a rerun can keep of them.

``results.json`` holds every row (every number and each run's learning curves), ``results.csv``
the scalar columns. Both are rewritten, atomically, after every configuration, so a stopped run
keeps what it finished. Each row carries ``run_key``: a hash of everything that decides its numbers
(the data, the configuration, the budget, the seed). A rerun of the same command finds its finished
rows by that key (:func:`finished_rows`) and skips them.
"""

import csv
import hashlib
import json
import os

from vae_tf.atomic_files import atomic_path

RESULTS_JSON, RESULTS_CSV = "results.json", "results.csv"

#: The scalar columns of results.csv (results.json also holds each run's learning curves).
CSV_FIELDS = [
    "kind", "table", "name", "description", "dataset", "likelihood", "loss", "binarized", "dequantized", "latent_dim",
    "epochs", "batch_size", "seed", "bits_per_dim", "bits_per_dim_se", "bits_per_dim_method", "no_bits_reason",
    "log_prob", "test_elbo", "test_iwae", "iwae_k", "iwae_examples", "scored_examples", "test_examples", "recon_mse",
    "mean_image_mse", "kl", "active_units", "decoder_sigma", "optimal_sigma", "bits_per_dim_at_optimal_sigma",
    "implied_sigma", "implied_beta", "network", "parameters", "train_seconds", "examples_per_second",
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
