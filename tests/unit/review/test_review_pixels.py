"""The pixel comparison: changed share, size changes and the highlighted difference."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from atomesh.review.pixels import HIGHLIGHT, ImageDecodeError, compare, facts, to_png


def _png(size: tuple[int, int], colour: tuple[int, int, int], box: tuple[int, int, int, int] | None = None) -> bytes:
    image = Image.new("RGB", size, colour)
    if box is not None:
        image.paste((0, 0, 0), box)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_identical_images_have_no_changed_pixels() -> None:
    image = _png((40, 20), (200, 200, 200))
    result = compare(image, image)
    assert result.changed_pixels == 0
    assert result.changed_share == 0.0
    assert (result.after.width, result.after.height, result.after.format) == (40, 20, "PNG")


def test_a_changed_box_is_counted_and_highlighted() -> None:
    before = _png((10, 10), (255, 255, 255))
    after = _png((10, 10), (255, 255, 255), box=(0, 0, 5, 2))
    result = compare(before, after)
    assert result.changed_pixels == 10
    assert result.changed_share == pytest.approx(0.10)
    diff = Image.open(io.BytesIO(result.diff_png)).convert("RGB")
    assert diff.getpixel((1, 1)) == HIGHLIGHT[:3]
    assert diff.getpixel((8, 8)) != HIGHLIGHT[:3]


def test_encoder_noise_below_the_tolerance_is_not_a_change() -> None:
    result = compare(_png((8, 8), (100, 100, 100)), _png((8, 8), (104, 100, 97)))
    assert result.changed_pixels == 0


def test_a_larger_after_image_counts_the_new_area_as_changed() -> None:
    result = compare(_png((10, 10), (0, 0, 255)), _png((10, 20), (0, 0, 255)))
    assert result.total_pixels == 200
    assert result.changed_pixels == 100
    assert (result.before.height, result.after.height) == (10, 20)


def test_jpeg_and_webp_decode_and_convert_to_png() -> None:
    for fmt in ("JPEG", "WEBP"):
        out = io.BytesIO()
        Image.new("RGB", (16, 9), (10, 20, 30)).save(out, format=fmt)
        data = out.getvalue()
        assert facts(data).format == fmt
        assert facts(data).size_bytes == len(data)
        assert Image.open(io.BytesIO(to_png(data))).format == "PNG"


def test_bytes_that_are_no_image_are_refused_with_a_reason() -> None:
    with pytest.raises(ImageDecodeError):
        compare(b"<svg/>", _png((2, 2), (0, 0, 0)))
