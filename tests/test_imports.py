"""What a user sees of the imports: ``import vae_tf`` behaves like any Keras library, the command line stays quick.

``import vae_tf`` imports TensorFlow, Keras and TFP and registers its Keras classes; it adds nothing to
``sys.meta_path``, leaves descriptor 2 and the warnings alone, and works in every import order, also when the
user has a ``losses.py`` of their own. The command line's parser imports no TensorFlow (``vae_tf_cli``), so
``--help`` and a rejected option answer at once; its first screen is free of TensorFlow's start-up lines
(``test_cli_bad_input.test_first_screen_is_ours_and_verbose_brings_tensorflow_back``).
"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMANDS = ("compare", "train", "evaluate", "export", "compress", "decompress")


def _python(code, cwd=None, args=()):
    env = {k: v for k, v in os.environ.items() if k not in ("VAE_TF_VERBOSE", "TF_CPP_MIN_LOG_LEVEL")}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=300)


PARSE_ONLY = """
import sys
from vae_tf_cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("vae_tf", "tensorflow", "keras", "tensorflow_probability", "numpy") if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
sys.exit(code)
"""


@pytest.mark.parametrize("args", [["--help"], *([c, "--help"] for c in COMMANDS), ["compare", "--epochs", "0"],
                                  ["train", "--latent-dim", "x"], ["compare", "--bogus"], []],
                         ids=lambda a: " ".join(a) or "no command")
def test_the_parser_imports_no_tensorflow(args):
    result = _python(PARSE_ONLY, args=args)
    assert "HEAVY=\n" in result.stdout, result.stdout[-500:] + result.stderr[-2000:]
    assert result.returncode == (2 if "--help" not in args and args else 0), result.stderr[-2000:]


def test_import_vae_tf_leaves_the_process_alone():
    # TensorFlow and the libraries it loads put finders of their own on sys.meta_path; vae_tf adds none.
    code = """
import os, sys, warnings
import tensorflow, keras, tensorflow_probability
finders = list(sys.meta_path)
import vae_tf
assert sys.meta_path == finders, (finders, sys.meta_path)
assert "tensorflow" in sys.modules and "keras" in sys.modules and "tensorflow_probability" in sys.modules
import keras
assert "vae_tf>VAE" in keras.saving.get_custom_objects() and "losses>NegativeLogLikelihood" in keras.saving.get_custom_objects()
sys.stderr.flush()
os.write(2, b"written to descriptor 2\\n")
warnings.warn("a warning after import vae_tf")
print("ok")
"""
    result = _python(code)
    assert result.stdout.strip() == "ok", result.stderr[-3000:]
    assert "written to descriptor 2" in result.stderr
    assert "a warning after import vae_tf" in result.stderr


@pytest.mark.parametrize("imports", ["import vae_tf", "import keras; import vae_tf", "import tensorflow; import vae_tf",
                                     "import losses; import vae_tf", "import vae_tf, losses",
                                     "import vae_tf.layers", "import vae_tf.networks", "import vae_tf.distributions",
                                     "from vae_tf.networks.precision import PRECISIONS", "import vae_tf.losses",
                                     "from vae_tf import losses"])
def test_every_import_order_works(imports):
    code = (f"{imports}\nimport sys, keras, losses, vae_tf\n"
            "assert losses is vae_tf.losses is sys.modules['vae_tf.losses']\n"
            "assert losses.NegativeLogLikelihood is vae_tf.losses.NegativeLogLikelihood\n"
            "print('vae_tf>VAE' in keras.saving.get_custom_objects())")
    result = _python(code)
    assert result.stdout.strip() == "True", result.stderr[-3000:]


def test_a_users_own_losses_module_does_not_shadow_the_package(tmp_path):
    (tmp_path / "losses.py").write_text("MINE = True\n")
    code = ("import losses\nassert losses.MINE\nimport vae_tf\n"
            "assert vae_tf.losses is not losses and hasattr(vae_tf.losses, 'ScaledMSE')\n"
            "import numpy as np\n"
            "m = vae_tf.VAE(vae_tf.networks.mlp_encoder(2, hidden=(4,)), vae_tf.networks.mlp_decoder(hidden=(4,)),"
            " vae_tf.layers.IndependentBernoulli((3, 3, 1)))\n"
            "m.compile(loss=vae_tf.losses.BinaryCrossentropy(), jit_compile=False)\n"
            "m.fit(np.zeros((4, 3, 3, 1), 'float32'), epochs=1, verbose=0)\nprint('trained')")
    result = _python(code, cwd=tmp_path)
    assert result.stdout.strip() == "trained", result.stderr[-3000:]


def test_a_saved_model_loads_in_a_fresh_process(tmp_path):
    save = ("import vae_tf, numpy as np\n"
            "m = vae_tf.VAE(vae_tf.networks.mlp_encoder(2, hidden=(4,)), vae_tf.networks.mlp_decoder(hidden=(4,)),"
            " vae_tf.layers.IndependentBernoulli((3, 3, 1)))\n"
            "m.compile(jit_compile=False); m.fit(np.zeros((4, 3, 3, 1), 'float32'), epochs=1, verbose=0)\n"
            f"m.save({str(tmp_path / 'm.keras')!r})\n")
    assert _python(save).returncode == 0
    load = f"import vae_tf, keras\nprint(type(keras.saving.load_model({str(tmp_path / 'm.keras')!r})).__name__)"
    loaded = _python(load)
    assert loaded.stdout.strip() == "VAE", loaded.stderr[-2000:]
