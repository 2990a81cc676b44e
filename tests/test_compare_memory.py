"""A compare's memory: each configuration's peak RSS is measured and reported, and the resident memory does not
grow from one configuration to the next (issue 31, "a compare that fits a laptop")."""

import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from vae_tf.long_jobs import GIB, PeakRSS, current_rss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Configurations of the compare below, in order: a per-pixel sigma, Keras' "mse" (rescored at its optimal sigma
#: too) and one learned sigma, each with its own decoder and compiled passes.
CONFIGS = ["dnormal_per_pixel_sigma", "keras_mse", "dnormal_learned_sigma"]
#: How far a later configuration's peak RSS may rise above the first's, and the RSS after a configuration above the
#: RSS after the one before it, from the second on (the first pays once for TensorFlow's kernels and caches).
#: Measured (2-core AMD EPYC, TF 2.21, load average 5-7 from other jobs): peaks 0.99, 1.17, 1.17 GiB; RSS after
#: each 0.99, 1.16, 1.11 GiB.
PEAK_TOLERANCE_GIB = 0.5
AFTER_TOLERANCE_GIB = 0.2

needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads RSS from /proc/self/status")


@needs_proc
def test_peak_rss_sees_a_short_lived_array():
    before = current_rss()
    with PeakRSS(interval=0.01) as peak:
        block = np.ones(2**28 // 8)  # 256 MiB, touched
        time.sleep(0.2)
        del block
    assert peak.bytes >= before + 200 * 2**20
    assert peak.after_bytes < peak.bytes


@needs_proc
def test_rss_does_not_grow_from_one_configuration_to_the_next(tmp_path):
    """Three configurations of a compare on tiny 8x8 colour images (resnet networks, as for CIFAR-10), in a fresh
    process (TensorFlow's CPU allocator keeps what earlier tests freed): each configuration's peak RSS, from
    results.json and its console line, stays within PEAK_TOLERANCE_GIB of the first's, and the RSS after each
    configuration from the second on (its model gone, Keras' session cleared) within AFTER_TOLERANCE_GIB of the
    RSS after the one before. About 45 s of CPU; a minute or two of wall clock on a loaded machine."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (150, 8, 8, 3), dtype=np.uint8)
    data = tmp_path / "tiny_colour.npz"
    np.savez(data, x_train=images[:100], y_train=np.zeros(100, np.uint8), x_test=images[100:],
             y_test=np.zeros(50, np.uint8))
    out = tmp_path / "out"
    # The RSS when each configuration's results are written: after its model is gone and Keras' session cleared.
    script = textwrap.dedent(f"""
        import json
        from vae_tf.comparison import outputs, runner
        from vae_tf.long_jobs import current_rss
        after = []
        write = outputs.write_results
        def write_and_measure(rows, out):
            after.append(current_rss())
            return write(rows, out)
        outputs.write_results = write_and_measure
        runner.run_compare(data={str(data)!r}, configs={CONFIGS!r}, epochs=1, k=20, iwae_examples=50,
                           latent_dim=4, out={str(out)!r}, verbose=2, codecs=False)
        print("RSS after each configuration:", json.dumps(after))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [r for r in json.loads((out / "results.json").read_text()) if r["kind"] == "model"]
    peaks = [r["peak_rss_gib"] for r in sorted(rows, key=lambda r: CONFIGS.index(r["name"]))]
    assert all(isinstance(p, float) and p > 0 for p in peaks), peaks
    assert proc.stdout.count("; peak RSS ") == len(CONFIGS), proc.stdout[-2000:]
    after = [b / GIB for b in json.loads(proc.stdout.split("RSS after each configuration:")[1])]
    print(f"peak RSS per configuration {peaks} GiB; RSS after each {after} GiB")
    for name, peak in zip(CONFIGS[1:], peaks[1:]):
        assert peak - peaks[0] <= PEAK_TOLERANCE_GIB, f"{name}'s peak RSS {peak:.2f} GiB > the first's {peaks[0]:.2f}"
    for before, now in zip(after[1:], after[2:]):
        assert now - before <= AFTER_TOLERANCE_GIB, f"RSS after a configuration grew: {after} GiB"
