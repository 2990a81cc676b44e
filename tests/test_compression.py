"""Bits-back compression: exact round trips for every supported decoder (grey and colour), file size = coded bits, bad files."""

import os
import stat

import numpy as np
import pytest
import keras

import vae_tf
import vae_tf_cli as cli
from vae_tf.compression import (
    coding_batches,
    compress,
    compress_with_stats,
    decompress,
    decompress_with_stats,
    model_fingerprint,
    read_header,
)
from vae_tf.compression.coding_model import CodingModel
from vae_tf.compression.tables import level_probabilities
from vae_tf.errors import BadImagesError, CompressedFileError, UnsupportedModelError

#: Decoder name -> (likelihood layer factory, number of levels L it codes on the digits).
DECODERS = {
    "bernoulli": (lambda event, levels: vae_tf.layers.IndependentBernoulli(event), 2),
    "discretized_normal": (lambda event, levels: vae_tf.layers.IndependentDiscretizedNormal(
        event, scale="per_pixel", num_levels=levels), 17),
    "logistic_mixture": (lambda event, levels: vae_tf.layers.IndependentDiscretizedLogisticMixture(
        event, num_components=2, num_levels=levels), 17),
    "categorical": (lambda event, levels: vae_tf.layers.IndependentCategorical(event, num_levels=levels), 17),
}
#: Only for the level-table test: one learned sigma for all pixels (the scale broadcasts).
TABLE_ONLY_DECODERS = {
    "discretized_normal_shared_sigma": (lambda event, levels: vae_tf.layers.IndependentDiscretizedNormal(
        event, scale="learned", num_levels=levels), 17),
    "discretized_normal_fixed_sigma": (lambda event, levels: vae_tf.layers.IndependentDiscretizedNormal(
        event, scale=0.05, num_levels=levels), 17),
}


def _digit_levels(levels):
    """scikit-learn's digits as uint8 levels: 0..16 as stored, or binarized (k >= 8) for L = 2."""
    from sklearn.datasets import load_digits

    k = load_digits().images.astype(np.uint8)
    return (k >= 8).astype(np.uint8) if levels == 2 else k


def _model(decoder, event, latent_dim=4, hidden=(32,), seed=0):
    make, levels = {**DECODERS, **TABLE_ONLY_DECODERS}[decoder]
    keras.utils.set_random_seed(seed)
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(latent_dim, hidden=hidden),
                       vae_tf.networks.mlp_decoder(hidden=hidden), make(event, levels), seed=seed)
    model.build((None,) + tuple(event))
    return model


def _trained_digits_model(decoder, epochs=8):
    levels = DECODERS[decoder][1]
    k = _digit_levels(levels)
    model = _model(decoder, (8, 8, 1))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    model.fit((k[:1500, ..., None] / (levels - 1)).astype("float32"), epochs=epochs, batch_size=100, verbose=0)
    return model, k[1500:]


@pytest.fixture(scope="module")
def bernoulli_digits():
    return _trained_digits_model("bernoulli")


@pytest.mark.parametrize("decoder", list(DECODERS))
def test_round_trip_is_exact_on_digits(decoder):
    model, test = _trained_digits_model(decoder, epochs=3)
    data = compress(model, test)
    back = decompress(model, data)
    assert back.dtype == test.dtype and back.shape == test.shape
    np.testing.assert_array_equal(back, test)
    header = read_header(data)
    assert header.count == len(test) and header.num_levels == DECODERS[decoder][1]


@pytest.mark.parametrize("decoder", list(DECODERS))
def test_round_trip_is_exact_on_an_mnist_subset(decoder, mnist_path):
    with np.load(mnist_path) as archive:
        x = archive["x_test"][:150]  # (150, 28, 28) uint8 0..255
    levels = DECODERS[decoder][1]
    if levels == 2:
        x = (x > 127).astype(np.uint8)
    else:
        levels = 256
    make = DECODERS[decoder][0]
    keras.utils.set_random_seed(1)
    # Untrained weights: exactness does not depend on them, and random weights are a harder test
    # (flat posteriors, skewed level probabilities) than a trained model's.
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(8, hidden=(64,)), vae_tf.networks.mlp_decoder(hidden=(64,)),
                       make((28, 28, 1), levels), seed=1)
    model.build((None, 28, 28, 1))
    data = compress(model, x, batch_size=64)
    back = decompress(model, data)
    assert back.dtype == np.uint8 and back.shape == (150, 28, 28)
    np.testing.assert_array_equal(back, x)


def _colour_images(levels, count=6, seed=0):
    """``(count, 8, 8, 3)`` uint8: digits in R, shifted copies in G and B (correlated channels, like photos)."""
    k = _digit_levels(levels)[:count]
    rgb = np.stack([k, np.roll(k, 1, axis=1), np.roll(k, 1, axis=2)], axis=-1)
    noise = np.random.default_rng(seed).integers(0, 2, rgb.shape)
    return np.clip(rgb.astype(np.int64) + noise, 0, levels - 1).astype(np.uint8)


@pytest.mark.parametrize("decoder", list(DECODERS))
def test_round_trip_is_exact_on_colour_images(decoder):
    # Untrained weights on (8, 8, 3): every sub-pixel its own table (the independent decoders).
    model = _model(decoder, (8, 8, 3), seed=2)
    images = _colour_images(DECODERS[decoder][1])
    data, stats = compress_with_stats(model, images, batch_size=4)
    back, decoded = decompress_with_stats(model, data)
    assert back.shape == images.shape and back.dtype == images.dtype
    np.testing.assert_array_equal(back, images)
    # The decompressor pops and pushes back exactly what the compressor coded: the same code lengths.
    assert decoded.net_bits == pytest.approx(stats.net_bits, rel=1e-12)
    assert decoded.num_dims == images.size


@pytest.mark.parametrize("decoder", list(DECODERS) + list(TABLE_ONLY_DECODERS))
def test_fast_level_tables_are_the_model_probabilities(decoder):
    """The CDF-difference tables the coder uses equal exp(bin_log_probs()) to float32 accuracy."""
    import tensorflow as tf

    # Two channels: independent sub-pixels for every decoder (a mixture on 3 channels may couple R, G, B).
    model = _model(decoder, (6, 6, 2), seed=3)
    z = tf.random.stateless_normal((5, 4), seed=(1, 2)) * 2.0
    px = model.decode(z, training=False)
    fast = level_probabilities(px).numpy()
    exact = np.exp(px.distribution.bin_log_probs().numpy().astype(np.float64))
    assert fast.shape == exact.shape == (5, 6, 6, 2, 17 if decoder != "bernoulli" else 2)
    np.testing.assert_allclose(fast, exact, atol=2e-6)
    np.testing.assert_allclose(fast.sum(-1), 1.0, atol=1e-5)


def test_fast_coupled_tables_are_the_model_conditionals():
    """The coupled mixture's per-channel tables (CDF differences) equal exp(channel_bin_log_probs(x, channel=c))."""
    import tensorflow as tf

    from vae_tf.compression.tables import channel_level_probabilities

    model = _model("logistic_mixture", (6, 6, 3), seed=5)
    px = model.decode(tf.random.stateless_normal((4, 4), seed=(3, 4)) * 2.0, training=False)
    assert hasattr(px.distribution, "channel_conditional_mixture")  # the coupled decoder on RGB
    x = tf.constant(np.random.default_rng(0).integers(0, 17, (4, 6, 6, 3)) / 16.0, tf.float32)
    for c in range(3):
        fast = channel_level_probabilities(px, x, c).numpy()
        exact = np.exp(px.distribution.channel_bin_log_probs(x, channel=c).numpy().astype(np.float64))
        assert fast.shape == exact.shape == (4, 6, 6, 17)
        np.testing.assert_allclose(fast, exact, atol=2e-6)


class CoupledCategorical(vae_tf.distributions.LevelCategorical):
    """A stand-in for a channel-coupled decoder: channel ``c``'s logits shift with the values of channels ``< c``.

    ``channel_bin_log_probs(x)[..., c, :] = log_softmax(logits_c + 6 sum_{j<c} x_j v)``, ``v`` a fixed ramp over
    the levels, so G's table depends on R and B's on R and G, as in PixelCNN++'s coupling.
    """

    def channel_bin_log_probs(self, x, channel=None):
        import tensorflow as tf

        channels = int(x.shape[-1])
        before = np.tril(np.ones((channels, channels), np.float32), k=-1)  # [c, j] = 1 for j < c
        shift = tf.einsum("...j,cj->...c", tf.cast(x, tf.float32), before)
        ramp = tf.linspace(-1.0, 1.0, self.num_levels)
        out = tf.nn.log_softmax(self.logits + 6.0 * shift[..., None] * ramp, axis=-1)
        return out if channel is None else tf.gather(out, channel, axis=-2)


class CoupledCategoricalLayer(vae_tf.layers.IndependentCategorical):
    def call(self, inputs):
        return self.independent(CoupledCategorical(self.logits(inputs), self.num_levels))


def test_coupled_channels_are_coded_r_then_g_then_b_exactly():
    keras.utils.set_random_seed(4)
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(4, hidden=(32,)), vae_tf.networks.mlp_decoder(hidden=(32,)),
                       CoupledCategoricalLayer((8, 8, 3), num_levels=17), seed=4)
    model.build((None, 8, 8, 3))
    coding = CodingModel.for_model(model, 10, 4)
    assert coding.channels_coupled
    images = _colour_images(17, count=7)
    data, stats = compress_with_stats(model, images, batch_size=4)
    back, decoded = decompress_with_stats(model, data)
    np.testing.assert_array_equal(back, images)
    assert decoded.net_bits == pytest.approx(stats.net_bits, rel=1e-12)
    # The coupling is coded: the same logits without it would give other code lengths.
    independent = vae_tf.VAE(model.encoder, model.decoder, vae_tf.layers.IndependentCategorical((8, 8, 3), num_levels=17))
    independent.build((None, 8, 8, 3))
    independent.likelihood.set_weights(model.likelihood.get_weights())
    assert compress_with_stats(independent, images, batch_size=4)[1].pixel_bits != pytest.approx(stats.pixel_bits)


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_format_is_one_clear_error(bernoulli_digits, version):
    model, test = bernoulli_digits
    data = bytearray(compress(model, test[:5]))
    data[8:10] = (version).to_bytes(2, "little")
    with pytest.raises(CompressedFileError, match=f"format version {version}; this vae-tf reads version 3.*older"):
        decompress(model, bytes(data))


def test_the_default_batch_keeps_a_batch_of_level_tables_small():
    from vae_tf.compression import default_batch_size

    def model(event):
        return vae_tf.VAE(vae_tf.networks.mlp_encoder(2, hidden=(4,)), vae_tf.networks.mlp_decoder(hidden=(4,)),
                          vae_tf.layers.IndependentDiscretizedNormal(event, scale="learned"))

    # min(100, 2^25 // (D * 256)): MNIST keeps 100 images a batch, CIFAR-10 42, 64x64 RGB photos 10.
    assert [default_batch_size(model(e)) for e in [(28, 28, 1), (32, 32, 3), (64, 64, 3), (512, 512, 3)]] == \
        [100, 42, 10, 1]


def test_file_size_is_the_coded_information_plus_the_stated_overhead(bernoulli_digits):
    model, test = bernoulli_digits
    data, stats = compress_with_stats(model, test)
    assert stats.file_bytes == len(data)
    assert 8 * stats.file_bytes == 8 * stats.header_bytes + stats.payload_bits
    # The ANS stack is the seed words plus sum(-log2 P) of what was pushed less what was popped,
    # to within its 64-bit head and the padding of its last 32-bit word.
    excess = stats.payload_bits - (stats.seed_bits + stats.net_bits)
    assert 0 <= excess <= 96, excess
    assert stats.seed_bits <= 32 * 64  # "a few" initial bits, not a batch's worth per image


def test_coded_rate_is_close_to_the_negative_elbo(bernoulli_digits):
    model, test = bernoulli_digits
    _, stats = compress_with_stats(model, test, latent_bits=10)
    elbo_bits = -np.mean([model.elbo((test[..., None]).astype("float32")) for _ in range(5)]) / np.log(2)
    coded_bits = stats.net_bits / stats.count
    # One draw of z per image against the mean over q: a few percent apart on 297 images.
    assert abs(coded_bits - elbo_bits) < 0.05 * elbo_bits, (coded_bits, elbo_bits)


def test_compress_is_deterministic_and_any_batch_shape_round_trips(bernoulli_digits):
    model, test = bernoulli_digits
    assert compress(model, test) == compress(model, test)
    grid = test[:296].reshape(4, 74, 8, 8, 1)
    back = decompress(model, compress(model, grid, batch_size=32))
    assert back.shape == grid.shape
    np.testing.assert_array_equal(back, grid)
    assert [b - a for a, b in coding_batches(10, 4)] == [1, 2, 4, 3]


def test_unsupported_decoder_names_the_discretized_layer_to_use():
    keras.utils.set_random_seed(0)
    model = vae_tf.VAE(vae_tf.networks.mlp_encoder(2, hidden=(8,)), vae_tf.networks.mlp_decoder(hidden=(8,)),
                       vae_tf.layers.IndependentNormal((8, 8, 1), scale="learned"))
    model.build((None, 8, 8, 1))
    with pytest.raises(UnsupportedModelError, match="IndependentNormal.*IndependentDiscretizedNormal"):
        compress(model, np.zeros((3, 8, 8, 1), np.uint8))


def _flip_payload_byte(data):
    corrupt = bytearray(data)
    corrupt[-3] ^= 0x10
    return bytes(corrupt)


def _flip_header_byte(data):
    corrupt = bytearray(data)
    at = bytes(data).index(b'"batch_size":') + len(b'"batch_size":')
    corrupt[at] = ord("9") if corrupt[at] != ord("9") else ord("8")
    return bytes(corrupt)


BAD_FILES = {
    "truncated": (lambda data: data[:-7], "truncated"),
    "truncated_header": (lambda data: data[:30], "truncated"),
    "corrupt_payload": (_flip_payload_byte, "corrupt"),
    "corrupt_header": (_flip_header_byte, "corrupt"),
    "not_a_vae_tf_file": (lambda data: b"PK\x03\x04" + data[4:], "not a vae-tf compressed file"),
    "empty": (lambda data: b"", "not a vae-tf compressed file"),
}


@pytest.mark.parametrize("damage", list(BAD_FILES))
def test_bad_file_is_one_clear_error(bernoulli_digits, damage):
    model, test = bernoulli_digits
    data = compress(model, test[:20])
    change, message = BAD_FILES[damage]
    with pytest.raises(CompressedFileError, match=message) as info:
        decompress(model, change(data))
    assert "\n" not in str(info.value)


def test_another_model_is_refused_before_decoding(bernoulli_digits):
    model, test = bernoulli_digits
    data = compress(model, test[:20])
    other = _model("bernoulli", (8, 8, 1), seed=5)
    assert model_fingerprint(other) != model_fingerprint(model)
    with pytest.raises(CompressedFileError, match="another model"):
        decompress(other, data)


@pytest.mark.parametrize("images, message", [
    (np.zeros((4, 8, 8), np.float32), "integer levels"),
    (np.full((4, 8, 8), 255, np.uint8), "values 255..255.*Binarize"),
    (np.zeros((4, 7, 8), np.uint8), r"do not end in the model's image shape \(8, 8, 1\)"),
    (np.zeros((0, 8, 8), np.uint8), "no images"),
])
def test_bad_images_are_one_clear_error(bernoulli_digits, images, message):
    with pytest.raises(BadImagesError, match=message):
        compress(bernoulli_digits[0], images)


# -- the command line ---------------------------------------------------------


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory, bernoulli_digits):
    model, test = bernoulli_digits
    folder = tmp_path_factory.mktemp("codec")
    model.save(folder / "m.keras")
    np.savez(folder / "images.npz", x_test=test[:40], y_test=np.zeros(40))
    return folder


def test_cli_compress_and_decompress_round_trip(cli_files, capsys):
    folder = cli_files
    old_umask = os.umask(0o027)
    try:
        rc = cli.main(["compress", str(folder / "m.keras"), str(folder / "images.npz"), str(folder / "images.bb")])
    finally:
        os.umask(old_umask)
    printed = capsys.readouterr().out
    assert rc == 0
    assert "bits/dim" in printed and "-ELBO (coded)" in printed and "initial random bits" in printed
    assert "IWAE" not in printed  # the comparison is off by default
    assert "40/40" in printed  # the progress bar (an estimate of the time left is said only when it is long)
    assert stat.S_IMODE(os.stat(folder / "images.bb").st_mode) == 0o640  # 0o666 less the umask, not mkstemp's 0o600
    rc = cli.main(["decompress", str(folder / "m.keras"), str(folder / "images.bb"), str(folder / "back.npz"),
                   "--compare-iwae", "3"])
    printed = capsys.readouterr().out
    assert rc == 0 and "checksums match" in printed and "IWAE (k=3)" in printed and "-ELBO (coded)" in printed
    assert "40/40" in printed
    with np.load(folder / "back.npz") as back, np.load(folder / "images.npz") as original:
        assert back.files == ["x_test"]
        np.testing.assert_array_equal(back["x_test"], original["x_test"])
        assert back["x_test"].dtype == original["x_test"].dtype


def test_cli_coded_elbo_line_is_the_file_less_its_overhead(cli_files, bernoulli_digits, capsys):
    folder = cli_files
    assert cli.main(["compress", str(folder / "m.keras"), str(folder / "images.npz"), str(folder / "e.bb")]) == 0
    printed = capsys.readouterr().out
    coded = float(printed.split("-ELBO (coded)")[1].split()[0])
    file_rate = float(printed.split("  file")[1].split()[0])
    _, stats = compress_with_stats(bernoulli_digits[0], bernoulli_digits[1][:40])
    assert coded == pytest.approx(stats.net_bits / stats.num_dims, abs=1e-4)
    assert coded < file_rate  # the file adds the header and the seed words


def _cli_error(args, capsys):
    rc = cli.main(args)
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_cli_bad_inputs_are_one_line_and_leave_no_output(cli_files, bernoulli_digits, tmp_path, capsys):
    folder = cli_files
    model = str(folder / "m.keras")
    np.savez(tmp_path / "labels.npz", labels=np.arange(10))
    np.save(tmp_path / "floats.npy", np.zeros((3, 8, 8)))
    np.savez(tmp_path / "floats.npz", x=np.zeros((3, 8, 8), np.float32))
    (tmp_path / "not_a_model.keras").write_bytes(b"nonsense")
    out = tmp_path / "out.bb"
    assert "labels" in _cli_error(["compress", model, str(tmp_path / "labels.npz"), str(out)], capsys)
    assert "integer levels" in _cli_error(["compress", model, str(tmp_path / "floats.npz"), str(out)], capsys)
    assert "no array 'x'" in _cli_error(["compress", model, str(folder / "images.npz"), str(out), "--key", "x"], capsys)
    assert "is not a readable .keras file" in _cli_error(
        ["compress", str(tmp_path / "not_a_model.keras"), str(folder / "images.npz"), str(out)], capsys)
    assert "no such file" in _cli_error(["compress", model, str(tmp_path / "missing.npz"), str(out)], capsys)
    assert "--compare-iwae 5" in _cli_error(["compress", model, str(folder / "images.npz"), str(out), "--k", "5"],
                                            capsys)
    data = compress(bernoulli_digits[0], bernoulli_digits[1][:40])
    (tmp_path / "cut.bb").write_bytes(data[: len(data) // 2])
    assert "truncated" in _cli_error(["decompress", model, str(tmp_path / "cut.bb"), str(tmp_path / "o.npz")], capsys)
    other = _model("bernoulli", (8, 8, 1), seed=7)
    other.save(tmp_path / "other.keras")
    (tmp_path / "good.bb").write_bytes(data)
    assert "another model" in _cli_error(
        ["decompress", str(tmp_path / "other.keras"), str(tmp_path / "good.bb"), str(tmp_path / "o.npz")], capsys)
    leftovers = {p for p in os.listdir(tmp_path)} - {"labels.npz", "floats.npy", "floats.npz", "not_a_model.keras",
                                                      "cut.bb", "other.keras", "good.bb"}
    assert not leftovers, leftovers
