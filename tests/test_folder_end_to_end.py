"""A folder of colour PNGs runs through compare, train, evaluate, compress and decompress, as a user would run them."""

import json

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

import vae_tf_cli as cli
from vae_tf.networks.precision import cpu_has_native_bfloat16


@pytest.fixture(scope="module")
def colour_folder(tmp_path_factory):
    """60 colour 8x8 PNGs: scikit-learn's digits, each painted in its own colour (so R, G and B differ)."""
    folder = tmp_path_factory.mktemp("photos")
    digits = load_digits().images[:60] / 16.0
    colours = np.random.default_rng(0).uniform(0.3, 1.0, (60, 3))
    for i, (digit, colour) in enumerate(zip(digits, colours)):
        rgb = np.round(255 * digit[..., None] * colour).astype(np.uint8)
        Image.fromarray(rgb, mode="RGB").save(folder / f"img{i:03d}.png")
    return folder


def test_a_colour_folder_through_every_command(colour_folder, tmp_path, capsys):
    out = tmp_path / "compare"
    assert cli.main(["compare", "--data", str(colour_folder), "--configs", "logistic_mixture,dnormal_learned_sigma",
                     "--epochs", "2", "--k", "5", "--iwae-examples", "6", "--latent-dim", "4", "--no-jit", "--quiet",
                     "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "54 train, 6 test images (seeded split, seed 0) of 8x8x3" in printed
    rows = json.loads((out / "results.json").read_text())
    models = [r for r in rows if r["kind"] == "model"]
    assert [r["name"] for r in models] == ["logistic_mixture", "dnormal_learned_sigma"]
    assert all(r["num_dims"] == 8 * 8 * 3 and 0 < r["bits_per_dim"] < 8 for r in models)
    assert {"JPEG-XL lossless", "PNG", "LZMA -9e"} <= {r["name"] for r in rows if r["kind"] == "reference"}
    report = (out / "report.md").read_text()
    assert "colour: R, G, B sub-pixels, 256 levels each" in report and "grey levels" not in report.lower()
    # 8x8 colour images get the resnet; its hidden layers compute in bfloat16 where the CPU has it natively.
    assert {r["network"] for r in models} == {"resnet"}
    bfloat16 = cpu_has_native_bfloat16()
    assert {r["precision"] for r in models} == {"mixed_bfloat16" if bfloat16 else "float32"}
    assert ("hidden layers in bfloat16" in report) == bfloat16
    samples = Image.open(out / "logistic_mixture_samples.png")
    assert samples.mode in ("RGB", "RGBA")
    pixels = np.asarray(samples.convert("RGB"), np.int16)
    assert np.abs(pixels[..., 0] - pixels[..., 1]).max() > 0  # colour, not grey drawn three times

    model = tmp_path / "m.keras"
    assert cli.main(["train", "--config", "logistic_mixture", "--data", str(colour_folder), "--epochs", "2",
                     "--latent-dim", "4", "--out", str(model)]) == 0
    assert cli.main(["evaluate", str(model), "--data", str(colour_folder), "--k", "5"]) == 0
    evaluated = capsys.readouterr().out
    assert "test bits/dim" in evaluated and "on 6 test images" in evaluated

    packed, restored = tmp_path / "photos.bb", tmp_path / "restored.npz"
    assert cli.main(["compress", str(model), str(colour_folder), str(packed)]) == 0
    assert cli.main(["decompress", str(model), str(packed), str(restored)]) == 0
    with np.load(restored) as archive:
        (array,) = [archive[k] for k in archive.files]
    from vae_tf.data import read_image_folder

    np.testing.assert_array_equal(array, read_image_folder(colour_folder).x_test)
