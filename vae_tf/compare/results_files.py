"""The machine-readable results of a comparison: results.json (every number and learning curve), results.csv."""

import csv
import json
import os

#: The scalar columns of results.csv (results.json also holds each run's learning curves).
CSV_FIELDS = [
    "kind", "table", "name", "description", "dataset", "likelihood", "loss", "binarized", "dequantized", "latent_dim",
    "epochs", "batch_size", "seed", "bits_per_dim", "bits_per_dim_method", "no_bits_reason", "log_prob", "test_elbo",
    "test_iwae", "iwae_k", "iwae_examples", "recon_mse", "kl", "active_units", "decoder_sigma", "optimal_sigma",
    "bits_per_dim_at_optimal_sigma", "implied_sigma", "implied_beta", "train_seconds", "examples_per_second",
    "reconstructions_png", "samples_png",
]


def write_results(rows, out):
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(rows, f, indent=2)
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if r.get(k) is None else r.get(k) for k in CSV_FIELDS})


