"""SavedModel export, checked the way TensorFlow Serving would use it: by signature, without vae_tf.

What is and is not covered: the ``tensorflow_model_server`` binary is not
installable from the package registries this project may use (it ships as a
Docker image or a Debian package from Google's own apt repository), so no test
starts a server. Everything short of it is tested: the SavedModel is loaded by
its ``serve`` tag in a fresh Python process that has only TensorFlow (``keras``,
``tf_keras``, ``tensorflow_probability``, ``vae_tf`` and ``losses`` are made
unimportable before ``import tensorflow``), every signature is run there by
name with plain tensors, as the server's REST and gRPC ``Predict`` APIs do, and
its outputs are compared with the in-process model to 1e-5. The model is also
exported by the ``vae-tf export`` command in one process and loaded in another,
and ``saved_model_cli`` (TensorFlow's own SignatureDef reader) lists and runs it.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
import keras

import vae_tf
import vae_tf_cli as cli

EVENT = (8, 8, 1)
LATENT = 3
TOL = dict(rtol=1e-5, atol=1e-5)
SAMPLE_NUM, SAMPLE_SEED = 5, 11

LIKELIHOODS = {
    "normal_fixed": lambda: vae_tf.layers.IndependentNormal(EVENT, scale=0.2),
    "normal_learned": lambda: vae_tf.layers.IndependentNormal(EVENT, scale="learned"),
    "normal_per_pixel": lambda: vae_tf.layers.IndependentNormal(EVENT, scale="per_pixel"),
    "bernoulli": lambda: vae_tf.layers.IndependentBernoulli(EVENT),
    "continuous_bernoulli": lambda: vae_tf.layers.IndependentContinuousBernoulli(EVENT),
    # The digits are k / 16: 17 grey levels.
    "discretized_normal": lambda: vae_tf.layers.IndependentDiscretizedNormal(EVENT, scale="per_pixel", num_levels=17),
    "discretized_logistic_mixture": lambda: vae_tf.layers.IndependentDiscretizedLogisticMixture(EVENT, num_components=3, num_levels=17),
    "categorical": lambda: vae_tf.layers.IndependentCategorical(EVENT, num_levels=17, rank=4),
}
DISCRETIZED = ("discretized_normal", "discretized_logistic_mixture", "categorical")

# Run in a fresh interpreter: loads each SavedModel by tag and calls its signatures by name.
LOADER = textwrap.dedent(
    """
    import json, sys
    BLOCKED = ("keras", "tf_keras", "tensorflow_probability", "vae_tf", "losses")
    # `import tensorflow` itself imports keras.src.optimizers when keras is installed (for its
    # SavedModel registry); a None entry makes every one of these imports fail, so nothing below
    # can lean on them. TF Serving has no Python at all.
    for name in BLOCKED:
        sys.modules[name] = None
    import numpy as np
    import tensorflow as tf

    job = json.load(open(sys.argv[1]))
    report = {"models": {}}
    for key, spec in job["models"].items():
        loaded = tf.saved_model.load(spec["dir"], tags=["serve"])
        sigs = loaded.signatures
        inputs = dict(np.load(spec["inputs"]))
        out = {}
        x = tf.constant(inputs["x"])
        for name, kwargs in [("serving_default", {"x": x}), ("encode", {"x": x}), ("elbo", {"x": x}),
                             ("decode", {"z": tf.constant(inputs["z"])}),
                             ("sample", {"num": tf.constant(int(inputs["num"])), "seed": tf.constant(int(inputs["seed"]))})]:
            for output, value in sigs[name](**kwargs).items():
                out[f"{name}/{output}"] = value.numpy()
        out["elbo_single/elbo"] = sigs["elbo"](x=x[3:4])["elbo"].numpy()
        np.savez(spec["outputs"], **out)
        errors = {}
        for label, name, kwargs in [
            ("trailing_shape", "encode", {"x": tf.zeros([2, 7, 8, 1])}),
            ("rank", "serving_default", {"x": tf.zeros([2, 64])}),
            ("dtype", "serving_default", {"x": tf.zeros([2, 8, 8, 1], tf.float64)}),
            ("int_dtype", "elbo", {"x": tf.zeros([2, 8, 8, 1], tf.int32)}),
            ("z_shape", "decode", {"z": tf.zeros([2, 7])}),
            ("nan", "encode", {"x": tf.fill([2, 8, 8, 1], float("nan"))}),
            ("num", "sample", {"num": tf.constant(0), "seed": tf.constant(1)}),
            ("range", "serving_default", {"x": tf.fill([2, 8, 8, 1], 255.0)}),
            ("off_grid", "elbo", {"x": tf.fill([2, 8, 8, 1], 0.3)}),
        ]:
            try:
                sigs[name](**kwargs)
                errors[label] = None
            except Exception as error:  # recorded, then asserted on by the test
                errors[label] = [type(error).__name__, str(error)]
        # a bad request leaves the model serving
        errors["still_serves"] = bool(np.all(np.isfinite(sigs["serving_default"](x=x)["elbo"].numpy())))
        report["models"][key] = {"signatures": sorted(sigs.keys()), "errors": errors}
    report["imported"] = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED and sys.modules[m] is not None)
    json.dump(report, open(sys.argv[2], "w"))
    """
)


def _perturb_weights(model, seed):
    """Move every weight off its initial value, so a variable the export failed to capture shows up."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        value = variable.numpy()
        variable.assign(value + rng.normal(0.0, 0.1, value.shape).astype(value.dtype))


def _make_model(likelihood, seed):
    model = vae_tf.VAE(
        encoder=vae_tf.networks.mlp_encoder(latent_dim=LATENT, hidden=(16,)),
        decoder=vae_tf.networks.mlp_decoder(hidden=(16,)),
        likelihood=likelihood,
        seed=seed,
    )
    model.build((None,) + EVENT)
    _perturb_weights(model, seed)
    return model


def _reference_elbo(model, x):
    """The documented served ELBO, rebuilt from the model's parts and the closed-form KL."""
    seeds = tf.bitcast(tf.reshape(tf.fingerprint(tf.constant(x)), (-1, 2, 4)), tf.int32).numpy()
    eps = np.stack([tf.random.stateless_normal([model.latent_dim], seed=s).numpy() for s in seeds])
    z_mean, z_log_var = (t.numpy() for t in model.encoder.parameters(x))
    z = z_mean + np.exp(0.5 * z_log_var) * eps
    nll = -model.decode(z).log_prob(x).numpy()
    kl = vae_tf.diagonal_gaussian_kl(z_mean, z_log_var).numpy()
    return {"elbo": -nll - kl, "reconstruction_nll": nll, "kl": kl}


def _reference_outputs(model, x, z):
    z_mean, z_log_var = model.encoder.parameters(x)
    elbo = _reference_elbo(model, x)
    return {
        "serving_default/reconstruction": model.reconstruct(x).numpy(),
        "serving_default/elbo": elbo["elbo"],
        "encode/z_mean": z_mean.numpy(),
        "encode/z_log_var": z_log_var.numpy(),
        "decode/mean": model.decode(z).mean().numpy(),
        "sample/images": model.sample(SAMPLE_NUM, seed=SAMPLE_SEED).numpy(),
        "elbo/elbo": elbo["elbo"],
        "elbo/reconstruction_nll": elbo["reconstruction_nll"],
        "elbo/kl": elbo["kl"],
        "elbo_single/elbo": elbo["elbo"][3:4],
    }


def _run_module_cli(*args):
    return subprocess.run([sys.executable, "-m", "vae_tf_cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def exported(digits, tmp_path_factory):
    """Every likelihood exported from a model restored from .keras, one exported in memory, one by the CLI."""
    root = tmp_path_factory.mktemp("export")
    x = digits[:16]
    z = np.random.default_rng(0).normal(size=(6, LATENT)).astype("float32")
    models, job = {}, {"models": {}}

    def add(key, model, export_dir):
        inputs = root / f"{key}_inputs.npz"
        np.savez(inputs, x=x, z=z, num=SAMPLE_NUM, seed=SAMPLE_SEED)
        models[key] = (model, export_dir)
        job["models"][key] = {"dir": str(export_dir), "inputs": str(inputs), "outputs": str(root / f"{key}_out.npz")}

    for i, (key, likelihood) in enumerate(LIKELIHOODS.items()):
        model = _make_model(likelihood(), seed=i + 1)
        keras_file = root / f"{key}.keras"
        model.save(keras_file)
        restored = keras.saving.load_model(keras_file)
        # the reference is the original in-memory model: restore + export must both be exact
        add(key, model, vae_tf.export_saved_model(restored, root / key / "1"))
    in_memory = models["bernoulli"][0]
    add("bernoulli_in_memory", in_memory, vae_tf.export_saved_model(in_memory, root / "in_memory" / "1"))

    # exported by the command line in its own process, which has exited before the loader starts
    cli_dir = root / "cli" / "1"
    result = _run_module_cli("export", "--model", str(root / "normal_learned.keras"), "--out", str(cli_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    add("cli_normal_learned", models["normal_learned"][0], cli_dir)

    job_file, report_file = root / "job.json", root / "report.json"
    job_file.write_text(json.dumps(job))
    (root / "loader.py").write_text(LOADER)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    loaded = subprocess.run([sys.executable, str(root / "loader.py"), str(job_file), str(report_file)],
                            capture_output=True, text=True, env=env, cwd=root, timeout=300)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    report = json.loads(report_file.read_text())
    outputs = {key: dict(np.load(spec["outputs"])) for key, spec in job["models"].items()}
    return {"root": root, "x": x, "z": z, "models": models, "report": report, "outputs": outputs,
            "cli_stdout": result.stdout}


def test_fresh_process_had_only_tensorflow(exported):
    assert exported["report"]["imported"] == []


@pytest.mark.parametrize("key", list(LIKELIHOODS) + ["bernoulli_in_memory", "cli_normal_learned"])
def test_every_signature_matches_the_in_process_model(exported, key):
    model, _ = exported["models"][key]
    served = exported["outputs"][key]
    assert exported["report"]["models"][key]["signatures"] == sorted(vae_tf.export.SIGNATURES)
    expected = _reference_outputs(model, exported["x"], exported["z"])
    assert sorted(served) == sorted(expected)
    for name, value in expected.items():
        assert served[name].dtype == np.float32, name
        assert served[name].shape == value.shape, name
        np.testing.assert_allclose(served[name], value, **TOL, err_msg=f"{key}: {name}")
    # one example's ELBO does not depend on the batch it came in
    np.testing.assert_allclose(served["elbo_single/elbo"], served["elbo/elbo"][3:4], **TOL)
    np.testing.assert_allclose(served["serving_default/elbo"], served["elbo/elbo"], **TOL)


def test_served_elbo_is_the_documented_in_process_function(exported):
    model, _ = exported["models"]["continuous_bernoulli"]
    ours = vae_tf.export.serving_elbo(model, exported["x"])
    served = exported["outputs"]["continuous_bernoulli"]
    for term in ("elbo", "reconstruction_nll", "kl"):
        np.testing.assert_allclose(ours[term].numpy(), served[f"elbo/{term}"], **TOL)
    # a proper one-sample estimate: the average over fresh noise is close to the model's own ELBO
    x = exported["x"]
    own = np.mean([model.elbo(x) for _ in range(200)], axis=0)
    difference = served["elbo/elbo"] - own
    assert abs(difference.mean()) < 4 * difference.std() / np.sqrt(len(x))


@pytest.mark.parametrize("label, message", [
    ("trailing_shape", "x must have shape (batch, 8, 8, 1)"),
    ("rank", "x must have shape (batch, 8, 8, 1)"),
    ("dtype", "expected to be a float tensor but is a double tensor"),
    ("int_dtype", "expected to be a float tensor but is a int32 tensor"),
    ("z_shape", f"z must have shape (batch, {LATENT})"),
    ("nan", "x contains NaN or Inf"),
    ("num", "num must be a positive integer"),
])
def test_bad_requests_give_clear_errors_in_the_fresh_process(exported, label, message):
    errors = exported["report"]["models"]["normal_per_pixel"]["errors"]
    assert errors[label] is not None, f"{label}: the signature accepted a bad request"
    kind, text = errors[label]
    assert kind == "InvalidArgumentError"
    assert message in text
    assert errors["still_serves"]
    # a Normal decoder takes any real pixels; a Bernoulli one refuses values outside [0, 1]
    assert errors["range"] is None


def test_unit_interval_decoders_refuse_unscaled_pixels(exported):
    for key in ("bernoulli", "continuous_bernoulli") + DISCRETIZED:
        kind, text = exported["report"]["models"][key]["errors"]["range"]
        assert kind == "InvalidArgumentError" and "needs pixels in [0, 1]" in text


def test_discretized_decoders_refuse_pixels_off_their_grid(exported):
    for key in DISCRETIZED:
        kind, text = exported["report"]["models"][key]["errors"]["off_grid"]
        assert kind == "InvalidArgumentError" and "needs pixels on the grid k / 16" in text, key
    for key in ("normal_per_pixel", "bernoulli", "continuous_bernoulli"):
        assert exported["report"]["models"][key]["errors"]["off_grid"] is None, key


def test_cli_prints_the_signatures(exported):
    out = exported["cli_stdout"]
    assert "SavedModel written to" in out
    assert "sample: num int32 scalar, seed int32 scalar -> images float32 (num, 8, 8, 1)" in out
    assert f"encode: x float32 (batch, 8, 8, 1) -> z_mean float32 (batch, {LATENT}), z_log_var" in out


def _saved_model_cli():
    path = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    if not os.path.exists(path):
        pytest.skip(f"saved_model_cli not found next to {sys.executable}")
    return path


def test_saved_model_cli_show_and_run(exported, tmp_path):
    tool = _saved_model_cli()
    export_dir = str(exported["models"]["bernoulli"][1])
    shown = subprocess.run([tool, "show", "--dir", export_dir, "--all"], capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    text = shown.stdout
    for name, (inputs, outputs) in vae_tf.export.SIGNATURES.items():
        block = text.split(f"signature_def['{name}']:")[1].split("signature_def[")[0]
        for tensor in inputs:
            assert f"inputs['{tensor}']" in block, (name, tensor)
        for tensor in outputs:
            assert f"outputs['{tensor}']" in block, (name, tensor)
        assert "Method name is: tensorflow/serving/predict" in block
    assert "shape: (-1, 8, 8, 1)" in text and "dtype: DT_INT32" in text

    x = exported["x"][:4]
    np.save(tmp_path / "x.npy", x)
    ran = subprocess.run([tool, "run", "--dir", export_dir, "--tag_set", "serve", "--signature_def", "serving_default",
                          "--inputs", f"x={tmp_path / 'x.npy'}", "--outdir", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    model = exported["models"]["bernoulli"][0]
    np.testing.assert_allclose(np.load(tmp_path / "out" / "reconstruction.npy"), model.reconstruct(x).numpy(), **TOL)
    np.testing.assert_allclose(np.load(tmp_path / "out" / "elbo.npy"), _reference_elbo(model, x)["elbo"], **TOL)


def test_export_builds_an_unbuilt_model_and_refuses_to_overwrite(tmp_path, digits):
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(LATENT, (8,)), vae_tf.networks.mlp_decoder((8,)),
                       vae_tf.layers.IndependentNormal(EVENT, scale=0.5))
    assert not model.built
    path = vae_tf.export_saved_model(model, tmp_path / "m" / "1")
    assert path == str(tmp_path / "m" / "1")
    served = tf.saved_model.load(path).signatures["encode"](x=tf.constant(digits[:4]))
    np.testing.assert_allclose(served["z_mean"].numpy(), model.encoder.parameters(digits[:4])[0].numpy(), **TOL)
    assert [p for p in os.listdir(tmp_path / "m")] == ["1"]  # the staging directory is gone
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o777 & ~umask  # readable by a server running as another user
    with pytest.raises(FileExistsError, match="new version directory"):
        vae_tf.export_saved_model(model, path)
    with pytest.raises(TypeError, match="vae_tf.VAE"):
        vae_tf.export_saved_model(keras.Sequential([keras.layers.Dense(1)]), tmp_path / "other")
    shutil.rmtree(path)


def test_cli_export_rejects_a_missing_model(tmp_path, capsys):
    rc = cli.main(["export", "--model", str(tmp_path / "nope.keras"), "--out", str(tmp_path / "out")])
    assert rc == 2 and "argument --model: no such file" in capsys.readouterr().err
