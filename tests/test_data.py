"""vae_tf.data: loaders, clear errors, binarization, pipelines."""

import os

import numpy as np
import pytest

from vae_tf import data
from vae_tf.errors import BadDatasetFileError, DatasetUnavailableError


def _write_npz(path, n_train=50, n_test=20, **overrides):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 6, 6), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 6, 6), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return arrays


def test_digits_default_is_unit_interval_with_channel_axis():
    d = data.load_dataset("digits", validation_split=0.1)
    assert d.x_train.shape[1:] == (8, 8, 1) and d.x_train.dtype == np.float32
    assert len(d.x_train) + len(d.x_val) == 1500 and len(d.x_val) == 150 and len(d.x_test) == 297
    assert 0.0 == d.x_train.min() and d.x_train.max() == 1.0


def test_local_npz_is_scaled_and_split(tmp_path):
    arrays = _write_npz(tmp_path / "toy.npz")
    d = data.load_dataset(path=tmp_path / "toy.npz", validation_split=10)
    assert d.name == "toy" and d.event_shape == (6, 6, 1)
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (40, 10, 20)
    np.testing.assert_allclose(d.x_val[..., 0], arrays["x_train"][40:] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(d.y_test, arrays["y_test"])


def test_data_dir_env_is_searched_before_keras(tmp_path, monkeypatch):
    _write_npz(tmp_path / "mnist.npz")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(data.sources, "_keras_loader", lambda name: pytest.fail("keras.datasets must not be tried"))
    d = data.load_dataset("mnist")
    assert d.source == str(tmp_path / "mnist.npz") and d.event_shape == (6, 6, 1)


def test_offline_error_says_how_to_pass_a_file(tmp_path, monkeypatch):
    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3] name resolution")

    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))  # empty directory
    monkeypatch.setattr(data.sources, "_keras_loader", lambda name: offline)
    with pytest.raises(DatasetUnavailableError) as info:
        data.load_dataset("fashion_mnist")
    msg = str(info.value)
    for needed in ("--data", "fashion_mnist.npz", data.DATA_DIR_ENV, "x_train, y_train, x_test, y_test", "digits"):
        assert needed in msg, needed


def test_npz_missing_keys_names_file_and_keys(tmp_path):
    _write_npz(tmp_path / "bad.npz", y_train=None, y_test=None)
    with pytest.raises(BadDatasetFileError, match=r"bad\.npz.*lacks the arrays y_train, y_test"):
        data.load_dataset(path=tmp_path / "bad.npz")


def test_unreadable_npz_is_a_clear_error(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip archive")
    with pytest.raises(BadDatasetFileError, match=r"junk\.npz"):
        data.load_dataset(path=tmp_path / "junk.npz")
    with pytest.raises(BadDatasetFileError, match="does not exist"):
        data.load_dataset(path=tmp_path / "missing.npz")


def test_dynamic_binarization_redraws_every_epoch():
    x = np.full((64, 4, 4, 1), 0.3, np.float32)
    ds = data.make_dataset(x, batch_size=64, binarize="dynamic", shuffle=False, seed=1)
    epoch1 = np.concatenate([xb.numpy() for xb, _ in ds])
    epoch2 = np.concatenate([xb.numpy() for xb, _ in ds])
    assert set(np.unique(epoch1)) <= {0.0, 1.0}
    assert not np.array_equal(epoch1, epoch2)
    # A Bernoulli(0.3) mean over 1024 pixels: 0.3 +- 4 standard errors.
    assert abs(epoch1.mean() - 0.3) < 4 * np.sqrt(0.21 / epoch1.size)


def test_static_binarization_is_fixed_and_pipeline_targets_equal_inputs():
    x = np.random.default_rng(0).random((30, 4, 4, 1)).astype(np.float32)
    np.testing.assert_array_equal(data.binarize_static(x, 5), data.binarize_static(x, 5))
    ds = data.make_dataset(x, batch_size=8, binarize="static", shuffle=False, seed=5)
    xs = np.concatenate([xb.numpy() for xb, _ in ds])
    np.testing.assert_array_equal(xs, data.binarize_static(x, 5))
    for xb, yb in ds.take(1):
        np.testing.assert_array_equal(xb.numpy(), yb.numpy())
    with pytest.raises(ValueError, match="binarize"):
        data.make_dataset(x, binarize="sometimes")


def test_num_levels_come_from_the_data_and_levels_are_exact(tmp_path):
    digits = data.load_dataset("digits")
    assert digits.num_levels == 17
    np.testing.assert_array_equal(data.grey_levels(digits.x_test, 17) / 16.0, digits.x_test)
    _write_npz(tmp_path / "toy.npz")
    assert data.load_dataset(path=tmp_path / "toy.npz").num_levels == 256
    # Every 8-bit level survives k / 255 in float32 and comes back exactly.
    every = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    x = data.to_unit_interval(every)
    np.testing.assert_array_equal(data.grey_levels(x, 256)[0, ..., 0], every[0])
    with pytest.raises(ValueError, match="not grey levels"):
        data.grey_levels(x + 0.3 / 255, 256)


def test_grey_levels_come_in_slices_in_the_smallest_integer_type(monkeypatch):
    """Slices of CHUNK_VALUES (here 1,000, so a 4,800-value array takes five) give the same levels, and
    dequantize_static the same (k + u) / L value for value, as one pass over the whole array."""
    from vae_tf.data import levels as levels_module

    monkeypatch.setattr(levels_module, "CHUNK_VALUES", 1000)
    k = np.random.default_rng(0).integers(0, 256, (100, 4, 4, 3))
    x = (k / 255).astype(np.float32)
    assert data.smallest_level_dtype(256) == np.uint8 and data.smallest_level_dtype(257) == np.uint16
    small = data.grey_levels(x, 256, data.smallest_level_dtype(256))
    assert small.dtype == np.uint8
    np.testing.assert_array_equal(small, k)
    whole = ((k + np.random.default_rng(4).random(k.shape)) / 256).astype(np.float32)
    np.testing.assert_array_equal(data.dequantize_static(x, 256, seed=4), whole)
    with pytest.raises(ValueError, match="uint8 cannot hold 300 levels"):
        data.grey_levels(x, 300, np.uint8)
    x[-1, -1, -1, -1] += 0.3 / 255  # off the grid in the last slice only
    with pytest.raises(ValueError, match="not grey levels"):
        data.grey_levels(x, 256, np.uint8)


@pytest.mark.parametrize("options", [{}, {"binarize": "dynamic"}, {"binarize": "static"}])
@pytest.mark.parametrize("shuffle", [True, False])
def test_a_pipeline_of_integer_levels_gives_the_same_batches(options, shuffle):
    """make_dataset(levels=L) holds k as uint8 and gives back the float32 batches of k / (L - 1), batch for batch."""
    levels = 17
    x = (np.random.default_rng(0).integers(0, levels, (50, 4, 4, 1)) / (levels - 1)).astype(np.float32)

    def epochs(**more):
        ds = data.make_dataset(x, batch_size=16, shuffle=shuffle, seed=3, **options, **more)
        return [xb.numpy() for _ in range(2) for xb, _ in ds]

    for plain, held in zip(epochs(), epochs(levels=levels), strict=True):
        assert held.dtype == np.float32
        np.testing.assert_array_equal(held, plain)
    with pytest.raises(ValueError, match="not grey levels"):
        data.make_dataset(x + 0.01, levels=levels)
    with pytest.raises(ValueError, match="levels=17 but dequantize=256"):
        data.make_dataset(x, levels=levels, dequantize=256)


def test_dequantization_is_fresh_every_epoch_and_stays_in_its_bin():
    levels = 17
    k = np.random.default_rng(0).integers(0, levels, (64, 4, 4, 1))
    x = (k / (levels - 1)).astype(np.float32)
    ds = data.make_dataset(x, batch_size=16, dequantize=levels, shuffle=False, seed=3)
    epoch1 = np.concatenate([xb.numpy() for xb, _ in ds])
    epoch2 = np.concatenate([xb.numpy() for xb, _ in ds])
    assert not np.array_equal(epoch1, epoch2)
    for y in (epoch1, epoch2):
        # (k + u) / L with u in [0, 1): floor(y L) = k exactly.
        np.testing.assert_array_equal(np.floor(y.astype(np.float64) * levels), k)
    # Repeatable: the same seed gives the same epochs.
    again = data.make_dataset(x, batch_size=16, dequantize=levels, shuffle=False, seed=3)
    np.testing.assert_array_equal(np.concatenate([xb.numpy() for xb, _ in again]), epoch1)
    u = epoch1.astype(np.float64) * levels - k  # U[0, 1): mean 1/2, sd 1/sqrt(12)
    assert abs(u.mean() - 0.5) < 4 / np.sqrt(12 * u.size) and u.min() >= 0 and u.max() < 1
    static = data.dequantize_static(x, levels, seed=1)
    np.testing.assert_array_equal(static, data.dequantize_static(x, levels, seed=1))
    np.testing.assert_array_equal(np.floor(static.astype(np.float64) * levels), k)
    with pytest.raises(ValueError, match="exclude"):
        data.make_dataset(x, binarize="dynamic", dequantize=levels)


def test_binarized_mnist_by_name_keeps_its_split(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {k: rng.integers(0, 2, (n, 784), dtype=np.uint8) for k, n in (("x_train", 30), ("x_valid", 10), ("x_test", 12))}
    np.savez(tmp_path / "binarized_mnist.npz", **arrays)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    d = data.load_dataset("binarized_mnist")
    assert d.num_levels == 2 and d.event_shape == (28, 28, 1) and d.y_train is None
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (30, 10, 12)
    np.testing.assert_array_equal(d.x_val[..., 0], arrays["x_valid"].reshape(10, 28, 28))
    monkeypatch.delenv(data.DATA_DIR_ENV)
    with pytest.raises(DatasetUnavailableError, match="x_train, x_valid, x_test"):
        data.load_dataset("binarized_mnist")


@pytest.mark.skipif(not os.environ.get("VAE_TF_MNIST"), reason="set VAE_TF_MNIST to the real mnist.npz")
def test_real_binarized_mnist_next_to_mnist():
    path = os.path.join(os.path.dirname(os.environ["VAE_TF_MNIST"]), "binarized_mnist.npz")
    if not os.path.exists(path):
        pytest.skip(f"{path} is absent")
    d = data.load_dataset("binarized_mnist", path=path)
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (50000, 10000, 10000)
    assert d.num_levels == 2 and set(np.unique(d.x_test)) == {0.0, 1.0}
    assert int(d.x_test.sum()) == 1038896  # the ones counted in /work/shared/data/README.md
