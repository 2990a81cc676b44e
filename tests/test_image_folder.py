"""A folder of images is a dataset (vae_tf.data.image_folder), and a file of the wrong kind is named by its kind.

Small PNGs written with Pillow into tmp_path: the loader's shapes, order, splits, conversions and
resizing; then the bad folders through the command line (one line, exit 2), once in a subprocess.
"""

import gzip
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from vae_tf.data import load_dataset, read_image_folder
from vae_tf.errors import BadDatasetFileError
from vae_tf.data.sources import KERAS, NPZ, TEXT, file_kind, not_an_npz_message

from test_cli_bad_input import _vae_tf


def _write(path, pixels, mode=None, **save):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, np.uint8), mode=mode).save(path, **save)
    return path


def _random(seed, shape):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@pytest.fixture
def grey_folder(tmp_path):
    """30 greyscale 8x8 PNGs, written in shuffled order so that sorting matters."""
    d = tmp_path / "greys"
    for i in np.random.default_rng(1).permutation(30):
        _write(d / f"g{i:02d}.png", _random(i, (8, 8)))
    return d


def _files_pixels(paths):
    return np.stack([np.asarray(Image.open(p)) for p in paths])


def test_a_grey_folder_loads_sorted_and_split_repeatably(grey_folder):
    folder = read_image_folder(grey_folder)
    assert folder.x_train.dtype == np.uint8 and folder.x_test.dtype == np.uint8
    assert folder.x_train.shape == (27, 8, 8, 1) and folder.x_test.shape == (3, 8, 8, 1)  # round(0.1 * 30) = 3
    names = [os.path.basename(p) for p in folder.train_files + folder.test_files]
    assert sorted(names) == [f"g{i:02d}.png" for i in range(30)]
    assert folder.train_files == sorted(folder.train_files) and folder.test_files == sorted(folder.test_files)
    # The arrays are the files' pixels, in the order of the file lists.
    np.testing.assert_array_equal(folder.x_train[..., 0], _files_pixels(folder.train_files))
    np.testing.assert_array_equal(folder.x_test[..., 0], _files_pixels(folder.test_files))
    again = read_image_folder(grey_folder)
    assert again.test_files == folder.test_files
    np.testing.assert_array_equal(again.x_train, folder.x_train)
    other = read_image_folder(grey_folder, seed=1)
    assert other.test_files != folder.test_files and len(other.test_files) == 3
    assert folder.describe() == f"{grey_folder}: 27 train, 3 test images (seeded split, seed 0) of 8x8x1"


def test_the_test_split_has_at_least_one_image(tmp_path):
    for i in range(3):
        _write(tmp_path / f"{i}.png", _random(i, (4, 4)))
    folder = read_image_folder(tmp_path, test_fraction=0.01)
    assert (len(folder.x_train), len(folder.x_test)) == (2, 1)


def test_load_dataset_takes_a_folder_and_prints_one_line(grey_folder, capsys):
    images = load_dataset(path=grey_folder)
    line = capsys.readouterr().out
    assert line == f"{grey_folder}: 27 train, 3 test images (seeded split, seed 0) of 8x8x1\n"
    assert images.name == "greys" and images.source == str(grey_folder)
    assert images.y_train is None and images.y_val is None and images.y_test is None
    assert images.num_levels == 256 and images.event_shape == (8, 8, 1)
    assert (len(images.x_train), len(images.x_val), len(images.x_test)) == (24, 3, 3)  # validation: last 10% of train
    folder = read_image_folder(grey_folder)
    np.testing.assert_allclose(images.x_test, folder.x_test / 255.0, atol=1e-7)
    assert load_dataset(path=str(grey_folder) + os.sep, log=None).name == "greys"  # a trailing slash too
    assert capsys.readouterr().out == ""


def test_train_and_test_subfolders_are_the_split(tmp_path):
    for i in range(7):
        _write(tmp_path / "train" / f"{i}.png", _random(i, (6, 6, 3)))
    for i in range(2):
        _write(tmp_path / "test" / "nested" / f"{i}.png", _random(10 + i, (6, 6, 3)))
    _write(tmp_path / "elsewhere.png", _random(99, (6, 6, 3)))  # outside train/ and test/: left out
    folder = read_image_folder(tmp_path)
    assert folder.x_train.shape == (7, 6, 6, 3) and folder.x_test.shape == (2, 6, 6, 3)
    assert all(os.sep + "test" + os.sep in p for p in folder.test_files)
    np.testing.assert_array_equal(folder.x_test[1], _random(11, (6, 6, 3)))
    assert "(train/ and test/ folders)" in folder.describe()


def test_alpha_and_palette_images_are_converted_and_counted(tmp_path):
    rgba = _random(0, (5, 5, 4))
    for i in range(4):
        _write(tmp_path / f"rgb{i}.png", _random(i + 1, (5, 5, 3)))
    _write(tmp_path / "alpha.png", rgba)
    Image.fromarray(_random(7, (5, 5, 3))).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "pal.png")
    folder = read_image_folder(tmp_path)
    x = np.concatenate([folder.x_train, folder.x_test])
    files = folder.train_files + folder.test_files
    assert x.shape == (6, 5, 5, 3)
    assert folder.converted == {"RGBA": 1, "P": 1}
    assert "converted 2 images to RGB" in folder.describe()
    np.testing.assert_array_equal(x[files.index(str(tmp_path / "alpha.png"))], rgba[..., :3])  # alpha dropped


def test_grey_with_alpha_becomes_grey(tmp_path):
    for i in range(3):
        _write(tmp_path / f"{i}.png", np.stack([_random(i, (4, 4)), np.full((4, 4), 128)], -1), mode="LA")
    folder = read_image_folder(tmp_path)
    assert folder.x_train.shape[-1] == 1 and folder.converted == {"LA": 3}
    assert "converted 3 images to L" in folder.describe()


def test_a_folder_mixing_grey_and_colour_becomes_rgb(tmp_path):
    grey = _random(0, (4, 4))
    _write(tmp_path / "a_grey.png", grey)
    for i in range(3):
        _write(tmp_path / f"b_rgb{i}.png", _random(i + 1, (4, 4, 3)))
    folder = read_image_folder(tmp_path)
    x = np.concatenate([folder.x_train, folder.x_test])
    assert x.shape == (4, 4, 4, 3)
    files = folder.train_files + folder.test_files
    np.testing.assert_array_equal(x[files.index(str(tmp_path / "a_grey.png"))], np.repeat(grey[..., None], 3, -1))
    assert "made 1 greyscale image RGB" in folder.describe()


def test_image_size_resizes_every_image(tmp_path):
    big, small = _random(0, (12, 10)), _random(1, (8, 8))
    _write(tmp_path / "big.png", big)
    _write(tmp_path / "small.png", small)
    _write(tmp_path / "third.png", _random(2, (6, 5)))
    folder = read_image_folder(tmp_path, image_size=(6, 5))
    x = np.concatenate([folder.x_train, folder.x_test])
    assert x.shape == (3, 6, 5, 1)
    files = folder.train_files + folder.test_files
    expected = np.asarray(Image.fromarray(big).resize((5, 6), Image.Resampling.LANCZOS))
    np.testing.assert_array_equal(x[files.index(str(tmp_path / "big.png"))][..., 0], expected)
    np.testing.assert_array_equal(x[files.index(str(tmp_path / "third.png"))][..., 0], _random(2, (6, 5)))
    assert load_dataset(path=tmp_path, image_size=(6, 5), log=None).event_shape == (6, 5, 1)


def test_all_four_formats_are_read_recursively_and_hidden_files_left_out(tmp_path):
    _write(tmp_path / "a.PNG", _random(0, (4, 4, 3)))
    _write(tmp_path / "sub" / "b.jpg", _random(1, (4, 4, 3)), quality=95)
    _write(tmp_path / "sub" / "deeper" / "c.webp", _random(2, (4, 4, 3)), lossless=True)
    _write(tmp_path / "d.bmp", _random(3, (4, 4, 3)))
    (tmp_path / "._a.png").write_bytes(b"\0\5\26\7")  # a macOS resource fork: not an image
    (tmp_path / "notes.txt").write_text("not an image")
    folder = read_image_folder(tmp_path)
    files = [os.path.relpath(p, tmp_path) for p in sorted(folder.train_files + folder.test_files)]
    assert files == ["a.PNG", "d.bmp", os.path.join("sub", "b.jpg"), os.path.join("sub", "deeper", "c.webp")]
    x = dict(zip(folder.train_files + folder.test_files, np.concatenate([folder.x_train, folder.x_test])))
    np.testing.assert_array_equal(x[str(tmp_path / "sub" / "deeper" / "c.webp")], _random(2, (4, 4, 3)))
    np.testing.assert_array_equal(x[str(tmp_path / "d.bmp")], _random(3, (4, 4, 3)))


def test_skip_bad_files_leaves_them_out_and_says_how_many(grey_folder):
    (grey_folder / "broken.png").write_bytes((grey_folder / "g00.png").read_bytes()[:60])
    (grey_folder / "zz_garbage.jpg").write_bytes(b"definitely not a jpeg")
    with pytest.raises(BadDatasetFileError, match="broken.png"):
        read_image_folder(grey_folder)
    folder = read_image_folder(grey_folder, skip_bad_files=True)
    assert len(folder.x_train) + len(folder.x_test) == 30
    assert [os.path.basename(p) for p, _ in folder.skipped] == ["broken.png", "zz_garbage.jpg"]
    assert "skipped 2 unreadable files (first: 'broken.png')" in folder.describe()


def test_sixteen_bit_images_are_refused_by_name(tmp_path):
    _write(tmp_path / "ok.png", _random(0, (4, 4)))
    Image.fromarray(np.full((4, 4), 40000, np.uint16)).save(tmp_path / "deep.png")
    with pytest.raises(BadDatasetFileError, match=r"deep\.png' is an image of mode 'I;16"):
        read_image_folder(tmp_path)


# -- bad folders through the real `vae-tf` ---------------------------------------------------------------


def _bad_folder(tmp_path, kind):
    d = tmp_path / "images"
    d.mkdir()
    if kind in ("corrupt", "mixed"):
        for i in range(4):
            _write(d / f"{i}.png", _random(i, (8, 8)))
    if kind == "corrupt":
        (d / "2.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"cut short")
    if kind == "mixed":
        _write(d / "9_wide.png", _random(9, (8, 12)))
    if kind == "text_only":
        (d / "readme.txt").write_text("no images here")
        (d / "labels.csv").write_text("a,b\n")
    if kind == "png_file":
        return str(_write(d / "x.png", _random(0, (8, 8))))
    return str(d)


BAD_FOLDERS = [
    # (folder kind, extra arguments, fragments the one line must hold)
    ("corrupt", [], ["Cannot read the image", os.path.join("images", "2.png"), "--skip-bad-files"]),
    ("mixed", [], ["differ in size", "is 8x8", "is 8x12", "--image-size HxW"]),
    ("empty", [], ["No images in the folder", ".png, .jpg, .jpeg, .webp, .bmp", "it is empty"]),
    ("text_only", [], ["No images in the folder", ".png, .jpg", "holds 2 other files"]),
    ("corrupt", ["--image-size", "32"], ["argument --image-size: must be HEIGHTxWIDTH", "got '32'"]),
    ("corrupt", ["--image-size", "0x5"], ["argument --image-size: must be HEIGHTxWIDTH", "got '0x5'"]),
    ("png_file", [], ["x.png' is a PNG image, not a .npz dataset; pass the folder that holds it with --data DIR"]),
]


def _check_one_line(rc, out, err, fragments, out_dir):
    assert rc == 2, out[-2000:] + err[-2000:]
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vae-tf compare: error: "), err[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not os.path.exists(out_dir / "results.json")


def _compare_argv(data, out_dir, extra):
    return ["compare", "--data", data, "--out", str(out_dir), "--configs", "categorical", *extra]


@pytest.mark.parametrize("kind, extra, fragments", BAD_FOLDERS, ids=[f"{k}{' '.join(e)}" for k, e, _ in BAD_FOLDERS])
def test_a_bad_folder_is_one_line_and_exit_2(tmp_path, kind, extra, fragments, capsys):
    """Through the CLI's main in this process: a subprocess per row would import TensorFlow each time (~15 s)."""
    import vae_tf_cli as cli

    rc = cli.main(_compare_argv(_bad_folder(tmp_path, kind), tmp_path / "out", extra))
    _check_one_line(rc, *capsys.readouterr(), fragments, tmp_path / "out")


def test_the_real_vae_tf_reports_a_corrupt_image_in_one_line(tmp_path):
    kind, extra, fragments = BAD_FOLDERS[0]
    result = _vae_tf(_compare_argv(_bad_folder(tmp_path, kind), tmp_path / "out", extra))
    _check_one_line(result.returncode, result.stdout, result.stderr, fragments, tmp_path / "out")


# -- the kind of a file, from its bytes ------------------------------------------------------------------


def _sample_files(d):
    picture = _random(0, (4, 4, 3))
    files = {}
    for fmt, suffix, kind in [("PNG", "png", "a PNG image"), ("JPEG", "jpg", "a JPEG image"),
                              ("GIF", "gif", "a GIF image"), ("WEBP", "webp", "a WebP image"),
                              ("BMP", "bmp", "a BMP image")]:
        Image.fromarray(picture).save(d / f"x.{suffix}", format=fmt)
        files[f"x.{suffix}"] = kind
    with zipfile.ZipFile(d / "m.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    files["m.keras"] = KERAS
    (d / "data.npz.gz").write_bytes(gzip.compress(b"\0" * 50))
    files["data.npz.gz"] = "gzip-compressed data"
    (d / "notes.npz").write_text("x_train,y_train\n1,2\n")
    files["notes.npz"] = TEXT
    np.savez(d / "ok.npz", x_train=np.zeros(2))
    files["ok.npz"] = NPZ
    np.save(d / "one.npy", np.zeros(2))
    files["one.npy"] = "a single NumPy .npy array"
    return files


def test_file_kind_reads_the_magic_bytes_not_the_name(tmp_path):
    for name, kind in _sample_files(tmp_path).items():
        assert file_kind(tmp_path / name) == kind, name
        renamed = tmp_path / f"renamed_{name.replace('.', '_')}"
        renamed.write_bytes((tmp_path / name).read_bytes())
        assert file_kind(renamed) == kind, name
    assert not_an_npz_message(tmp_path / "ok.npz") is None


def test_read_npz_names_the_wrong_kind_instead_of_numpys_pickle_advice(tmp_path):
    from vae_tf.data import read_npz

    for name, kind in _sample_files(tmp_path).items():
        if kind == NPZ:
            continue
        with pytest.raises(BadDatasetFileError) as caught:
            read_npz(tmp_path / name)
        message = str(caught.value)
        assert f"is {kind}, not a .npz dataset" in message and "pickle" not in message, message
    with pytest.raises(BadDatasetFileError, match=r"x\.png' is a PNG image, not a \.npz dataset; pass the folder"):
        load_dataset(path=tmp_path / "x.png")


def test_the_codec_reads_every_image_of_a_folder_with_its_name_size_and_mode(tmp_path):
    from vae_tf.data import folder_images

    _write(tmp_path / "b" / "c.png", _random(1, (6, 5, 3)))
    _write(tmp_path / "a.jpg", _random(2, (6, 5)))  # grey JPEG: read as RGB for a colour model, its mode kept
    _write(tmp_path / "b" / "a.png", _random(3, (6, 5, 4)))  # RGBA: alpha dropped, as the loader does
    _write(tmp_path / "b" / "p.png", _random(4, (6, 5)) % 8, mode="L")
    Image.open(tmp_path / "b" / "p.png").convert("P").save(tmp_path / "b" / "p.png")  # a palette image
    folder = folder_images(tmp_path, (6, 5, 3))
    assert folder.names == ["a.jpg", "b/a.png", "b/c.png", "b/p.png"]  # every file, no split, sorted by path
    assert folder.sizes == [(6, 5)] * 4 and folder.modes == ["L", "RGB", "RGB", "RGB"]
    pixels = folder.read(0, 4)
    assert pixels.shape == (4, 6, 5, 3) and pixels.dtype == np.uint8
    grey = np.asarray(Image.open(tmp_path / "a.jpg"))
    assert all(np.array_equal(pixels[0, ..., c], grey) for c in range(3))
    np.testing.assert_array_equal(pixels[1], np.asarray(Image.open(tmp_path / "b" / "a.png").convert("RGB")))
    np.testing.assert_array_equal(folder.read(2, 3)[0], np.asarray(Image.open(tmp_path / "b" / "c.png")))
    assert folder.max_level == int(pixels.max())
    with pytest.raises(BadDatasetFileError, match=r"is a colour image but the model codes grey images \(6x5x1\)"):
        folder_images(tmp_path, (6, 5, 1))
    with pytest.raises(BadDatasetFileError, match=r"a.jpg' is 6x5 .* codes 4x4 images: pass --image-size 4x4"):
        folder_images(tmp_path, (4, 4, 3))
    with pytest.raises(BadDatasetFileError, match="--image-size 3x3 is not the size the model codes, 4x4"):
        folder_images(tmp_path, (4, 4, 3), image_size=(3, 3))
    resized = folder_images(tmp_path, (4, 4, 3), image_size=(4, 4))
    assert resized.sizes == [(6, 5)] * 4 and resized.image_size == (4, 4)  # the sizes as stored
    np.testing.assert_array_equal(resized.read(2, 3)[0], np.asarray(
        Image.open(tmp_path / "b" / "c.png").resize((4, 4), Image.Resampling.LANCZOS)))


def test_png_names_change_the_extension_and_never_collide_or_leave_the_folder():
    from vae_tf.data.image_folder import png_names

    assert png_names(["a/b.jpg", "a/b.png", "c.JPEG", "c.jpg", "d.PNG", "e.webp"]) == \
        ["a/b.jpg.png", "a/b.png", "c.png", "c.jpg.png", "d.png", "e.png"]
    for bad in ("../x.png", "/etc/x.png", "a//b.png", "a/./b.png"):
        with pytest.raises(BadDatasetFileError, match="outside the folder"):
            png_names([bad])


def test_png_folder_appears_whole_or_not_at_all(tmp_path):
    from vae_tf.data.image_folder import png_folder

    pixels = _random(5, (3, 4, 3))
    with png_folder(tmp_path / "out") as write:
        write("x/y.png", pixels, "RGB")
        write("g.png", pixels[..., :1], "L")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "x" / "y.png")), pixels)
    assert Image.open(tmp_path / "out" / "g.png").mode == "L"
    with pytest.raises(BadDatasetFileError, match="exists and is not empty"):
        with png_folder(tmp_path / "out"):
            pass
    with pytest.raises(RuntimeError):
        with png_folder(tmp_path / "failed") as write:
            write("a.png", pixels, "RGB")
            raise RuntimeError("decoding failed")
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no partial folder, no staging folder left
