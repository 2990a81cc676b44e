"""Determinism: the same seed gives bit-identical weights after 2 epochs on CPU.

``keras.utils.set_random_seed`` seeds Python, NumPy, TensorFlow and Keras
(initialisers, the shuffling in ``fit``, and the model's latent seed stream,
which is left at ``seed=None`` here so that it too comes from the global seed);
``tf.config.experimental.enable_op_determinism()`` makes the kernels
themselves deterministic. Op determinism is process-wide and cannot be turned
off again, so each run is a separate interpreter; two processes with one seed
must agree exactly, and a different seed must not (else the test proves nothing).
"""

import os
import subprocess
import sys

import numpy as np

SCRIPT = r"""
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
import tensorflow as tf
import vae_tf

def train(seed):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(0)  # the data are fixed; only the seed varies
    x = (rng.uniform(size=(512, 8, 8, 1)) > 0.6).astype("float32")
    model = vae_tf.VAE(
        vae_tf.networks.mlp_encoder(latent_dim=4, hidden=(32,)),
        vae_tf.networks.mlp_decoder(hidden=(32,)),
        vae_tf.layers.IndependentBernoulli((8, 8, 1)),
    )
    model.compile(optimizer="adam")  # the default path: XLA, several steps per execution
    model.fit(x, epochs=2, batch_size=64, shuffle=True, verbose=0)
    return model.get_weights()

tf.config.experimental.enable_op_determinism()
out, seeds = sys.argv[1], [int(s) for s in sys.argv[2:]]
np.savez(out, **{f"seed{s}_w{i}": w for s in seeds for i, w in enumerate(train(s))})
"""


def run(tmp_path, name, seeds):
    path = tmp_path / f"{name}.npz"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(path), *map(str, seeds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    return proc, path


def weights(npz, seed):
    keys = sorted((k for k in npz.files if k.startswith(f"seed{seed}_")), key=lambda k: int(k.split("_w")[1]))
    return [npz[k] for k in keys]


def test_same_seed_gives_identical_weights_after_two_epochs(tmp_path):
    # Both interpreters at once: the two runs share the wall-clock time.
    runs = [run(tmp_path, "first", [7, 8]), run(tmp_path, "second", [7])]
    for proc, _ in runs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-4000:]
    first, second = (np.load(path) for _, path in runs)
    a, b, other = weights(first, 7), weights(second, 7), weights(first, 8)
    assert len(a) == len(b) == len(other) > 0
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    assert any(not np.array_equal(wa, wo) for wa, wo in zip(a, other))
