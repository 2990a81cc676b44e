"""`vae-tf compress DIR f.bb` codes every image of a folder, and `vae-tf decompress MODEL f.bb OUTDIR` writes the
folder back: the same relative names as PNG, the same subfolders, pixel-identical to what Pillow decodes from the
originals (after the loader's conversions to L or RGB). The models are untrained: a round trip is exact whatever the
weights, and an untrained model codes in milliseconds."""

import os

import keras
import numpy as np
import pytest
from PIL import Image

import vae_tf
import vae_tf_cli as cli
from vae_tf.compression import compress, compress_with_stats, decompress, decompress_folder, read_header
from vae_tf.data import folder_images
from vae_tf.data.image_folder import png_names
from vae_tf.errors import BadDatasetFileError, CompressedFileError

HEIGHT, WIDTH = 7, 9  # odd, and not square


def _model(channels, seed=0):
    keras.utils.set_random_seed(seed)
    event = (HEIGHT, WIDTH, channels)
    likelihood = (vae_tf.layers.IndependentDiscretizedLogisticMixture(event, num_components=2) if channels == 3 else
                  vae_tf.layers.IndependentDiscretizedNormal(event, scale="per_pixel"))
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(3, hidden=(16,)), vae_tf.networks.mlp_decoder(hidden=(16,)),
                       likelihood, seed=seed)
    model.build((None,) + event)
    return model


def _pixels(seed, channels, size=(HEIGHT, WIDTH)):
    rng = np.random.default_rng(seed)
    ramp = np.add.outer(np.arange(size[0]), np.arange(size[1]))[..., None] * 20
    return np.clip(ramp + rng.integers(0, 60, size + (channels,)), 0, 255).astype(np.uint8)


def _save(path, pixels, **options):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(path, **options)


def _colour_folder(root):
    """Colour and grey images of every kind the loader converts, in nested subfolders, a JPEG among them."""
    _save(root / "top.png", _pixels(0, 3))
    _save(root / "photos" / "beach.jpg", _pixels(1, 3), quality=85)
    _save(root / "photos" / "grey.JPG", _pixels(2, 1), quality=90)
    _save(root / "photos" / "2024" / "a.png", _pixels(3, 1))
    _save(root / "photos" / "2024" / "alpha.png", np.concatenate([_pixels(4, 3), _pixels(5, 1)], -1))  # RGBA
    Image.fromarray(_pixels(6, 1)[..., 0] // 64).convert("P").save(root / "photos" / "2024" / "palette.png")
    Image.fromarray(_pixels(7, 1)[..., 0] > 100).save(root / "photos" / "2024" / "bits.bmp")  # mode "1"
    _save(root / "photos" / "2024" / "deep" / "x.webp", _pixels(8, 3), lossless=True)
    (root / "photos" / "notes.txt").write_text("not an image: left out")
    return root


def _grey_folder(root):
    for i in range(5):
        _save(root / ("sub" if i % 2 else "") / f"g{i}.{'jpg' if i == 3 else 'png'}", _pixels(10 + i, 1))
    return root


def _as_loaded(path):
    """What Pillow decodes from an original after the loader's conversion to L or RGB."""
    with Image.open(path) as image:
        mode = "L" if image.mode in ("L", "1", "LA", "La") else "RGB"
        return np.asarray(image.convert(mode)), mode


def _assert_folder_restored(original, restored):
    names = sorted("/".join(os.path.relpath(os.path.join(r, f), original).split(os.sep))
                   for r, _, files in os.walk(original) for f in files if not f.endswith(".txt"))
    written = sorted("/".join(os.path.relpath(os.path.join(r, f), restored).split(os.sep))
                     for r, _, files in os.walk(restored) for f in files)
    assert written == sorted(png_names(names))
    for name, png in zip(names, png_names(names)):
        expected, mode = _as_loaded(original / name)
        with Image.open(restored / png) as back:
            assert back.format == "PNG" and back.mode == mode, (name, back.mode)
            np.testing.assert_array_equal(np.asarray(back), expected, err_msg=name)


@pytest.mark.parametrize("channels", [3, 1], ids=["colour", "grey"])
def test_compress_a_folder_then_decompress_gives_every_image_back(tmp_path, capsys, channels):
    folder = _colour_folder(tmp_path / "photos") if channels == 3 else _grey_folder(tmp_path / "greys")
    model = _model(channels)
    model.save(tmp_path / "m.keras")
    packed, out = tmp_path / "f.bb", tmp_path / "restored"
    assert cli.main(["compress", str(tmp_path / "m.keras"), str(folder), str(packed)]) == 0
    printed = capsys.readouterr().out
    count = 8 if channels == 3 else 5
    assert f"{count} images of {HEIGHT}x{WIDTH}x{channels}" in printed and f"for {count} images" in printed
    header = read_header(packed.read_bytes())
    assert header.count == count and header.image_size is None and header.name is None
    assert header.files[0] == (["photos/2024/a.png", HEIGHT, WIDTH, "L"] if channels == 3 else
                               ["g0.png", HEIGHT, WIDTH, "L"])
    assert cli.main(["decompress", str(tmp_path / "m.keras"), str(packed), str(out)]) == 0
    assert f"{count} PNG images" in capsys.readouterr().out
    _assert_folder_restored(folder, out)
    # In Python: the same file, the same folder, and decompress() gives the images as coded.
    assert compress(model, folder) == packed.read_bytes()
    names, _ = decompress_folder(model, packed.read_bytes(), tmp_path / "again")
    assert names == png_names(folder_images(folder, model.event_shape).names)
    _assert_folder_restored(folder, tmp_path / "again")
    coded = decompress(model, packed.read_bytes())
    np.testing.assert_array_equal(coded, folder_images(folder, model.event_shape).read(0, count))


def test_images_of_other_sizes_need_image_size_and_then_come_back_resized(tmp_path, capsys):
    folder = _grey_folder(tmp_path / "greys")
    _save(folder / "big.png", _pixels(20, 1, size=(12, 16)))
    model = _model(1)
    model.save(tmp_path / "m.keras")
    args = ["compress", str(tmp_path / "m.keras"), str(folder), str(tmp_path / "f.bb")]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"big.png' is 12x16" in err and "--image-size 7x9" in err, err
    assert not (tmp_path / "f.bb").exists()
    assert cli.main(args + ["--image-size", "7x9", "--compare-iwae", "2"]) == 0
    printed = capsys.readouterr().out
    assert "resized to 7x9 where they were not" in printed and "on 6 images" in printed
    iwae = printed.split("model IWAE (k=2)")[1].split()[0]
    header = read_header((tmp_path / "f.bb").read_bytes())
    assert header.image_size == [7, 9] and header.files[0] == ["big.png", 12, 16, "L"]  # the size as stored
    assert cli.main(["decompress", str(tmp_path / "m.keras"), str(tmp_path / "f.bb"), str(tmp_path / "out"),
                     "--compare-iwae", "2"]) == 0
    printed = capsys.readouterr().out
    assert "resized to 7x9" in printed and printed.split("model IWAE (k=2)")[1].split()[0] == iwae
    with Image.open(folder / "big.png") as original, Image.open(tmp_path / "out" / "big.png") as back:
        np.testing.assert_array_equal(np.asarray(back), np.asarray(original.resize((9, 7), Image.Resampling.LANCZOS)))
    with Image.open(folder / "g0.png") as original, Image.open(tmp_path / "out" / "g0.png") as back:
        np.testing.assert_array_equal(np.asarray(back), np.asarray(original))  # of the model's size: untouched


def test_a_folder_is_read_batch_by_batch_never_whole(tmp_path):
    folder = folder_images(_grey_folder(tmp_path / "greys"), (HEIGHT, WIDTH, 1))
    reads = []
    original = folder.read
    folder.read = lambda start, stop: reads.append(stop - start) or original(start, stop)
    compress_with_stats(_model(1), folder, batch_size=2)
    assert reads and max(reads) <= 2


def _one_line_error(args, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    folder = _grey_folder(tmp_path / "greys")
    model, other = _model(1), _model(1, seed=3)
    model.save(tmp_path / "m.keras")
    other.save(tmp_path / "other.keras")
    m, packed = str(tmp_path / "m.keras"), tmp_path / "f.bb"
    assert cli.main(["compress", m, str(folder), str(packed)]) == 0
    capsys.readouterr()
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    assert "exists and is not empty" in _one_line_error(["decompress", m, str(packed), str(full)], capsys)
    assert os.listdir(full) == ["keep.txt"]
    (tmp_path / "cut.bb").write_bytes(packed.read_bytes()[:-9])
    assert "truncated" in _one_line_error(["decompress", m, str(tmp_path / "cut.bb"), str(tmp_path / "o1")], capsys)
    assert "another model" in _one_line_error(
        ["decompress", str(tmp_path / "other.keras"), str(packed), str(tmp_path / "o2")], capsys)
    assert "compressed whole" in _one_line_error(["compress", m, str(folder), str(tmp_path / "k.bb"), "--key", "x"],
                                                 capsys)
    (folder / "sub" / "broken.png").write_bytes((folder / "g0.png").read_bytes()[:40])
    assert "Cannot read the image" in _one_line_error(["compress", m, str(folder), str(tmp_path / "b.bb")], capsys)
    assert cli.main(["compress", m, str(folder), str(tmp_path / "b.bb"), "--skip-bad-files"]) == 0
    assert "5 images of 7x9x1; skipped 1 unreadable (first: 'sub/broken.png')" in capsys.readouterr().out
    (tmp_path / "b.bb").unlink()
    np.savez(tmp_path / "a.npz", x_test=np.zeros((2, HEIGHT, WIDTH, 1), np.uint8))
    assert "apply to a folder of images, not to the file" in _one_line_error(
        ["compress", m, str(tmp_path / "a.npz"), str(tmp_path / "n.bb"), "--image-size", "7x9"], capsys)
    (tmp_path / "a.npz").unlink()
    colour = _colour_folder(tmp_path / "colour")
    assert "is a colour image but the model codes grey images" in _one_line_error(
        ["compress", m, str(colour), str(tmp_path / "c.bb")], capsys)
    left = sorted(os.listdir(tmp_path))
    assert left == ["colour", "cut.bb", "f.bb", "full", "greys", "m.keras", "other.keras"], left
    with pytest.raises(CompressedFileError, match="holds an array of images"):
        decompress_folder(model, compress(model, np.zeros((2, HEIGHT, WIDTH, 1), np.uint8)), tmp_path / "o3")
    with pytest.raises(BadDatasetFileError, match="is a file"):
        decompress_folder(model, packed.read_bytes(), packed)
