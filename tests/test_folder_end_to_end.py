"""A folder of colour PNGs runs through compare, train, evaluate, compress and decompress, as a user would run them."""

import json
import os

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

    packed, restored = tmp_path / "photos.bb", tmp_path / "restored"
    assert cli.main(["compress", str(model), str(colour_folder), str(packed)]) == 0
    assert "for 60 images" in capsys.readouterr().out  # every image of the folder, not its test split
    assert cli.main(["decompress", str(model), str(packed), str(tmp_path / "restored.npz")]) == 2
    assert "holds a folder of 60 images" in capsys.readouterr().err
    assert cli.main(["decompress", str(model), str(packed), str(restored)]) == 0
    assert sorted(os.listdir(restored)) == sorted(os.listdir(colour_folder))  # img000.png ... img059.png
    for name in os.listdir(colour_folder):
        np.testing.assert_array_equal(np.asarray(Image.open(restored / name)),
                                      np.asarray(Image.open(colour_folder / name)))


def _photo_folder(root, height, width, mode, seed, train=30, test=20):
    """``root/train`` and ``root/test`` of mid-grey wavy noisy images, PNG and JPEG in turn: binarized at 64x64x3 they
    are near-random bits, the images OpenJPEG's 1-bit encoder fails on (the crash this guards against)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    channels = 3 if mode == "RGB" else 1
    for split, count in (("train", train), ("test", test)):
        (root / split).mkdir(parents=True)
        for i in range(count):
            wave = 128 + 30 * np.sin(xx / rng.uniform(2, 8) + yy / rng.uniform(2, 8))
            pixels = np.clip(wave[..., None] + rng.normal(0, 20, (height, width, channels)), 0, 255).astype(np.uint8)
            image = Image.fromarray(pixels if channels == 3 else pixels[..., 0], mode)
            image.save(root / split / f"{i:03d}.{'jpg' if i % 2 else 'png'}")
    return root


@pytest.mark.parametrize("height, width, mode", [(64, 64, "RGB"), (37, 23, "L")], ids=["64x64-rgb", "37x23-grey"])
def test_compare_on_a_folder_at_native_size_ranks_every_reference_or_says_why_not(tmp_path, capsys, height, width,
                                                                                   mode):
    folder = _photo_folder(tmp_path / "photos", height, width, mode, seed=height)
    out = tmp_path / "compare"
    assert cli.main(["compare", "--data", str(folder), "--epochs", "1", "--configs",
                     "dnormal_learned_sigma,bin_bernoulli_nll", "--k", "5", "--iwae-examples", "20", "--quiet",
                     "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err
    rows = json.loads((out / "results.json").read_text())
    models = [r for r in rows if r["kind"] == "model"]
    assert sorted((r["name"], r["table"]) for r in models) == [("bin_bernoulli_nll", "binarized"),
                                                               ("dnormal_learned_sigma", "grey")]
    assert all(r["bits_per_dim"] > 0 for r in models)
    references = [r for r in rows if r["kind"] == "reference"]
    assert {r["table"] for r in references} == {"grey", "binarized"}
    report = (out / "report.md").read_text()
    for r in references:
        if r["bits_per_dim"] is None:  # n/a, with its reason in its row of the report
            assert r["no_bits_reason"].startswith(f"{r['name']} failed on {height}x{width}x{len(mode)} "), r
            assert f"| n/a: {r['no_bits_reason']} |" in report
        else:
            assert r["bits_per_dim"] > 0 and not r.get("no_bits_reason"), r
