"""The command line answers before TensorFlow loads: --help, every command's --help and a rejected option.

The parser path is standard library only (not even NumPy, ~0.1-0.3 s to import), so it answers at once.
"""

import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMANDS = ("compare", "train", "evaluate", "export", "compress", "decompress")
PROBE = """
import sys
from vae_tf.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("tensorflow", "keras", "tensorflow_probability", "numpy") if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
sys.exit(code)
"""


def _run(args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=120)
    return result, time.perf_counter() - start


@pytest.mark.parametrize("args", [["--help"], *([c, "--help"] for c in COMMANDS), ["compare", "--epochs", "0"],
                                  ["train", "--config", "gauss_learned_sigma", "--latent-dim", "x"], []],
                         ids=lambda a: " ".join(a) or "no command")
def test_parsing_imports_no_tensorflow(args):
    result, seconds = _run(args)
    print(f"vae-tf {' '.join(args)}: {seconds:.2f} s")  # the wall time, for the record (not asserted)
    assert "HEAVY=\n" in result.stdout, result.stdout[-500:] + result.stderr[-2000:]
    expected = 2 if "--help" not in args and args else 0
    assert result.returncode == expected, result.stderr[-2000:]


def test_import_vae_tf_is_lazy_and_registers_with_keras(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    lazy = subprocess.run([sys.executable, "-c", "import sys, vae_tf; print('tensorflow' in sys.modules)"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert lazy.stdout.strip() == "False", lazy.stderr[-2000:]

    save = ("import vae_tf, keras, numpy as np\n"
            "m = vae_tf.VAE(vae_tf.networks.mlp_encoder(2, hidden=(4,)), vae_tf.networks.mlp_decoder(hidden=(4,)),"
            " vae_tf.layers.IndependentBernoulli((3, 3, 1)))\n"
            "m.compile(jit_compile=False); m.fit(np.zeros((4, 3, 3, 1), 'float32'), epochs=1, verbose=0)\n"
            f"m.save({str(tmp_path / 'm.keras')!r})\n")
    subprocess.run([sys.executable, "-c", save], check=True, capture_output=True, env=env, timeout=300)
    # A fresh process: import vae_tf (lazy), then keras, then load: the classes must be registered.
    load = (f"import vae_tf\nimport keras\nm = keras.saving.load_model({str(tmp_path / 'm.keras')!r})\n"
            "print(type(m).__name__)\n")
    loaded = subprocess.run([sys.executable, "-c", load], capture_output=True, text=True, env=env, timeout=300)
    assert loaded.returncode == 0 and loaded.stdout.strip() == "VAE", loaded.stderr[-2000:]


@pytest.mark.parametrize("imports", ["import vae_tf; import keras", "import vae_tf; import tensorflow; import keras",
                                     "import vae_tf; import tensorflow_probability; import keras",
                                     "import keras; import vae_tf",
                                     # losses loads TensorFlow while it is half imported: registering must not need it whole
                                     "import vae_tf, losses; import keras", "import losses, vae_tf; import keras",
                                     # a subpackage first: Keras loads while it is half imported, before it defines a name
                                     "import vae_tf.layers; import keras", "import vae_tf.networks; import keras",
                                     "import vae_tf.distributions; import keras",
                                     "from vae_tf.networks.precision import PRECISIONS; import keras"])
def test_vae_tf_classes_are_registered_whatever_is_imported_after_it(imports):
    env = {k: v for k, v in os.environ.items() if k not in ("VAE_TF_VERBOSE", "TF_CPP_MIN_LOG_LEVEL")}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])
    code = f"{imports}\nprint('vae_tf>VAE' in keras.saving.get_custom_objects())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.stdout.strip() == "True", result.stderr[-2000:]
    if imports.startswith("import vae_tf"):
        # TensorFlow loaded after vae_tf, by whoever: its C++ start-up lines are held back.
        assert result.stderr == "", result.stderr[-2000:]
