"""Classic-codec and per-pixel-marginal reference rows for the bits/dim table."""

import bz2
import math

import numpy as np
import pytest

from vae_tf.comparison.references import (
    IMAGE_CODECS,
    MARGINALS,
    STREAM_CODECS,
    decode_image,
    encode_image,
    image_file_bytes,
    marginal_bits_per_dim,
    reference_rows,
)


def _digit_levels():
    from sklearn.datasets import load_digits

    return load_digits().images.astype(np.uint8)  # 0..16: L = 17


def test_rows_are_references_with_positive_rates_on_digits():
    k = _digit_levels()
    rows = reference_rows(k[1500:], k[:1500], num_levels=17)
    assert [r["name"] for r in rows] == [*STREAM_CODECS, *IMAGE_CODECS, MARGINALS]
    assert all(r["kind"] == "reference" and r["bits_per_dim_method"] == "reference" for r in rows)
    rates = {r["name"]: r["bits_per_dim"] for r in rows}
    assert {"JPEG-XL lossless", "JPEG 2000 lossless", "JPEG-LS lossless"} <= set(IMAGE_CODECS)
    assert all(r["images_coded"] == 297 for r in rows)
    # 17 levels need at most log2(17) = 4.09 bits/dim without any model: the stream codecs beat a
    # byte per value and the marginals beat a uniform code. One PNG or WebP per 8x8 image is
    # mostly container overhead (PNG's signature and chunks alone are 57 bytes).
    assert all(rate > 0 for rate in rates.values()), rates
    assert all(rates[codec] < 8 for codec in STREAM_CODECS), rates
    assert rates[MARGINALS] < math.log2(17)
    n = k[1500:].size
    assert rates["bz2 -9"] == pytest.approx(8 * len(bz2.compress(k[1500:].tobytes(), 9)) / n)


def test_marginals_are_the_smoothed_counts():
    train = np.array([[[0, 1]], [[0, 1]], [[1, 1]]], np.uint8)  # 3 images of 1x2 pixels
    test = np.array([[[1, 0]]], np.uint8)
    # pixel 0: counts (2, 1) -> P(1) = 1.5 / 4; pixel 1: counts (0, 3) -> P(0) = 0.5 / 4.
    expected = -(math.log2(1.5 / 4) + math.log2(0.5 / 4)) / 2
    assert marginal_bits_per_dim(train, test, num_levels=2) == pytest.approx(expected)


def test_binary_images_are_one_bit_pngs_and_constant_images_cost_almost_nothing():
    rng = np.random.default_rng(0)
    binary = (rng.random((20, 16, 16)) < 0.5).astype(np.uint8)
    rows = {r["name"]: r for r in reference_rows(binary, image_codecs=True)}
    assert MARGINALS not in rows
    # Random bits: an 8-bit PNG needs more than 8 bits/dim (a byte per pixel plus the container),
    # a 1-bit PNG about 1 bit plus the container (~70 bytes per 256-pixel image).
    assert rows["PNG"]["bits_per_dim"] < 4
    constant = np.zeros((200, 16, 16), np.uint8)
    assert all(r["bits_per_dim"] < 0.05 for r in reference_rows(constant, image_codecs=False))


def test_float_images_are_refused():
    with pytest.raises(ValueError, match="integer levels"):
        reference_rows(np.full((2, 4, 4), 0.5))


def _test_images(kind, n=3, size=12):
    """Small ``(n, size, size, C)`` uint8 images: a noisy gradient (grey, RGB) or random bits (binary)."""
    rng = np.random.default_rng(1)
    if kind == "binary":
        return (rng.random((n, size, size, 1)) < 0.3).astype(np.uint8)
    channels = 3 if kind == "rgb" else 1
    ramp = np.add.outer(np.arange(size), np.arange(size))[None, :, :, None] * 9
    noise = rng.integers(0, 40, (n, size, size, channels))
    return ((ramp + noise) % 256).astype(np.uint8)


@pytest.mark.parametrize("kind", ["grey", "binary", "rgb"])
@pytest.mark.parametrize("codec", IMAGE_CODECS)
def test_every_image_codec_is_lossless(codec, kind):
    images = _test_images(kind)
    binary = kind == "binary"
    for image in images:
        data = encode_image(image, codec, binary=binary)
        assert np.array_equal(decode_image(data, codec, image.shape[-1]), image), (codec, kind)
    # Uniform noise on 256 levels cannot compress: a lossless file keeps at least a byte per value.
    noise = np.random.default_rng(2).integers(0, 256, (12, 12, 3), dtype=np.uint8)
    assert len(encode_image(noise, codec)) >= noise.size


def test_binary_images_take_one_bit_per_sample_where_the_format_has_it():
    images = _test_images("binary", n=4, size=24)
    one_bit = {codec: image_file_bytes(images, codec, binary=True) for codec in IMAGE_CODECS}
    eight_bit = {codec: image_file_bytes(images, codec, binary=False) for codec in IMAGE_CODECS}
    assert all(image_file_bytes(images, codec) == one_bit[codec] for codec in IMAGE_CODECS)  # found by itself
    assert one_bit["PNG"] < eight_bit["PNG"] and one_bit["JPEG 2000 lossless"] < eight_bit["JPEG 2000 lossless"]
    # libjxl finds the 2 levels by itself: the declared bit depth moves its files by a few bytes at most.
    assert abs(one_bit["JPEG-XL lossless"] - eight_bit["JPEG-XL lossless"]) <= 2 * len(images)
    # WebP and JPEG-LS have no 1-bit samples: the same 8-bit file either way.
    assert one_bit["WebP lossless"] == eight_bit["WebP lossless"]
    assert one_bit["JPEG-LS lossless"] == eight_bit["JPEG-LS lossless"]


@pytest.mark.parametrize("shape", [(4, 10, 12), (4, 10, 12, 1), (4, 10, 12, 3)])
def test_image_bits_per_dim_is_the_summed_file_sizes_over_all_values(shape):
    levels = np.random.default_rng(3).integers(0, 50, shape, dtype=np.uint8)
    rows = {r["name"]: r for r in reference_rows(levels)}
    assert [r for r in rows] == [*STREAM_CODECS, *IMAGE_CODECS]
    images = levels.reshape(shape[:3] + (-1,))
    for codec in IMAGE_CODECS:
        size = sum(len(encode_image(image, codec)) for image in images)
        assert rows[codec]["bytes"] == size, codec
        # bits/dim = 8 * bytes / (N * H * W * C): an RGB image has 3 values per pixel.
        assert rows[codec]["bits_per_dim"] == pytest.approx(8 * size / (4 * 10 * 12 * images.shape[-1])), codec
        assert rows[codec]["seconds"] >= 0 and rows[codec]["images_coded"] == 4


def test_capping_the_images_per_codec_codes_the_first_ones_and_says_so():
    levels = _test_images("rgb", n=6)
    exact = {r["name"]: r for r in reference_rows(levels)}
    capped = {r["name"]: r for r in reference_rows(levels, max_images_per_codec=2)}
    for codec in IMAGE_CODECS:
        row = capped[codec]
        assert row["images_coded"] == 2 and "first 2 of 6 images" in row["description"], codec
        assert row["bytes"] == image_file_bytes(levels[:2], codec)
        assert row["bits_per_dim"] == pytest.approx(8 * row["bytes"] / levels[:2].size)
        assert exact[codec]["images_coded"] == 6 and "first" not in exact[codec]["description"]
    for codec in STREAM_CODECS:  # one stream of the whole set: never capped
        assert capped[codec] == {**exact[codec], "seconds": capped[codec]["seconds"]}
    only_webp = {r["name"]: r for r in reference_rows(levels, max_images_per_codec={"WebP lossless": 1})}
    assert only_webp["WebP lossless"]["images_coded"] == 1
    assert only_webp["PNG"]["images_coded"] == 6 and only_webp["PNG"]["bytes"] == exact["PNG"]["bytes"]
    # A cap above N codes them all, exactly.
    assert {r["name"]: r["bytes"] for r in reference_rows(levels, max_images_per_codec=100)} == \
        {name: r["bytes"] for name, r in exact.items()}


def test_a_capped_subset_is_stored_as_the_whole_set_would_be():
    # The first image alone looks binary, the set is not: capped to it, it is still an 8-bit grey PNG.
    levels = np.stack([np.eye(8, dtype=np.uint8), np.full((8, 8), 200, np.uint8)])
    first = levels[:1, ..., None]
    assert image_file_bytes(first, "PNG", binary=True) != image_file_bytes(first, "PNG", binary=False)
    rows = {r["name"]: r for r in reference_rows(levels, image_codecs=["PNG"], max_images_per_codec=1)}
    assert rows["PNG"]["bytes"] == image_file_bytes(first, "PNG", binary=False)


def test_image_codecs_can_be_chosen_and_bad_shapes_or_names_are_refused():
    levels = _test_images("grey")
    names = [r["name"] for r in reference_rows(levels, image_codecs=["JPEG-LS lossless"])]
    assert names == [*STREAM_CODECS, "JPEG-LS lossless"]
    with pytest.raises(ValueError, match="unknown image codecs"):
        reference_rows(levels, image_codecs=["GIF"])
    with pytest.raises(ValueError, match="RGB"):
        reference_rows(np.zeros((2, 4, 4, 2), np.uint8))
    two_channels = [r["name"] for r in reference_rows(np.zeros((2, 4, 4, 2), np.uint8), image_codecs=False)]
    assert two_channels == list(STREAM_CODECS)  # the stream codecs take any shape
    with pytest.raises(ValueError, match="at least 1"):
        reference_rows(levels, max_images_per_codec=0)


#: Every image shape the loaders give (grey and colour, binary and 8-bit), from 8x8 to 128x128, odd sizes included.
LOADER_SIZES = [(8, 8), (9, 13), (31, 17), (64, 64), (127, 65), (128, 128)]


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("binary", [False, True], ids=["8-bit", "binary"])
@pytest.mark.parametrize("size", LOADER_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_reference_is_a_number_that_decodes_exactly_or_na_with_a_reason(size, binary, channels):
    # Two images: uniform noise (incompressible: it broke JPEG-LS' buffer, and OpenJPEG on 1-bit 64x64x3) and a
    # smooth ramp. No exception, whatever the codec makes of them.
    rng = np.random.default_rng(sum(size) + channels)
    top = 2 if binary else 256
    noise = rng.integers(0, top, size + (channels,))
    ramp = (np.add.outer(np.arange(size[0]), np.arange(size[1]))[..., None] * top // sum(size)).repeat(channels, -1)
    levels = np.stack([noise, ramp]).astype(np.uint8)
    rows = {r["name"]: r for r in reference_rows(levels, levels, num_levels=top)}
    assert list(rows) == [*STREAM_CODECS, *IMAGE_CODECS, MARGINALS]
    for name, row in rows.items():
        if row["bits_per_dim"] is None:
            assert name in IMAGE_CODECS and row["bytes"] is None, row
            assert row["no_bits_reason"].startswith(f"{name} failed on {size[0]}x{size[1]}x{channels} "
                                                    f"{'binary' if binary else '8-bit'} images ("), row
            continue
        assert row["bits_per_dim"] > 0 and row["no_bits_reason"] is None, row
        if name in IMAGE_CODECS:  # what was counted decodes back exactly
            for image in levels:
                back = decode_image(encode_image(image, name, binary=binary), name, channels)
                assert np.array_equal(back, image), (name, size, binary, channels)
    if not binary:  # 8-bit images: every codec codes them (JPEG-LS needed a bigger buffer for noise)
        assert all(rows[c]["bits_per_dim"] is not None for c in IMAGE_CODECS), rows


def test_a_codec_that_fails_is_a_row_without_bits_that_ranks_last(monkeypatch):
    from vae_tf.comparison import references, report

    real = references.encode_image

    def encode(image, codec, binary=False):
        if codec == "JPEG 2000 lossless":
            raise RuntimeError("opj_encode or opj_write_tile failed | twice\nsecond line")
        return real(image, codec, binary)

    monkeypatch.setattr(references, "encode_image", encode)
    levels = _test_images("binary", n=2)
    rows = reference_rows(levels)
    failed = next(r for r in rows if r["name"] == "JPEG 2000 lossless")
    assert failed["bits_per_dim"] is None and failed["bits_per_dim_method"] is None and failed["bytes"] is None
    assert failed["no_bits_reason"] == ("JPEG 2000 lossless failed on 12x12x1 binary images (RuntimeError: "
                                        "opj_encode or opj_write_tile failed / twice second line)")
    table = report.ranked(rows + [{"kind": "model", "table": "grey", "name": "m", "bits_per_dim": 9.0,
                                      "bits_per_dim_method": "exact"}])
    assert table[-1]["name"] == "JPEG 2000 lossless" and table[-1]["rank"] is None
    assert [r["rank"] for r in table[:-1]] == list(range(1, len(table)))
    cells = report.markdown_table(table).splitlines()[-1]
    assert f"| n/a: {failed['no_bits_reason']} |" in cells and cells.count("|") == len(report.GREY_COLUMNS) + 1
    assert "n/a: JPEG 2000 lossless failed" in report.text_tables(table)
    assert "JPEG 2000" not in report.ranking_in_words(table, num_dims=144)
