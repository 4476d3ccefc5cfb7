"""Comparing two raster images: dimensions, the changed-pixel share and a highlighted difference.

Pure and deterministic: bytes in, numbers and PNG bytes out (Pillow decodes and encodes in memory).
Invariants: a pixel counts as changed when any RGBA channel differs by more than `TOLERANCE`;
images of different sizes are compared on a canvas of the larger width and height, where the part
only one image covers counts as changed; the diff image is the after image faded to grey with
every changed pixel painted `HIGHLIGHT`, so a reviewer sees where, not just how much.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageChops, UnidentifiedImageError

TOLERANCE = 8  # per channel, out of 255: absorbs encoder noise (JPEG re-encoding), not a real edit
HIGHLIGHT = (255, 0, 170, 255)
FADE = 0.3  # share of the after image kept under the highlight
MAX_PIXELS = 40_000_000  # decompression-bomb bound: a larger image is refused, not decoded


class ImageDecodeError(ValueError):
    """The bytes are not an image Pillow can decode (or the image is too large to compare)."""


@dataclass(frozen=True)
class ImageFacts:
    """What a reviewer needs about one side: its format, size in pixels and in bytes."""

    format: str
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class ImageComparison:
    """The comparison of a before and an after image."""

    before: ImageFacts
    after: ImageFacts
    changed_pixels: int
    total_pixels: int
    diff_png: bytes

    @property
    def changed_share(self) -> float:
        """Changed pixels over all pixels of the comparison canvas, 0.0 to 1.0."""
        return self.changed_pixels / self.total_pixels if self.total_pixels else 0.0


def _open(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise ImageDecodeError(f"{image.width}x{image.height} is over {MAX_PIXELS:,} pixels")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ImageDecodeError(str(error) or type(error).__name__) from error
    return image


def facts(data: bytes) -> ImageFacts:
    """Format, dimensions and byte size of an encoded image."""
    image = _open(data)
    return ImageFacts(format=image.format or "unknown", width=image.width, height=image.height, size_bytes=len(data))


def _canvas(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The image as RGBA on a transparent canvas of `size` (top-left aligned)."""
    rgba = image.convert("RGBA")
    if rgba.size == size:
        return rgba
    canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    canvas.paste(rgba, (0, 0))
    return canvas


def _coverage(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """An L mask: 255 where `image` has pixels on the canvas of `size`."""
    mask = Image.new("L", size, 0)
    mask.paste(255, (0, 0, image.width, image.height))
    return mask


def to_png(data: bytes) -> bytes:
    """The image re-encoded as PNG (for formats a browser may not show, and for a uniform asset type)."""
    out = io.BytesIO()
    _open(data).save(out, format="PNG", optimize=False)
    return out.getvalue()


def compare(before: bytes, after: bytes) -> ImageComparison:
    """Compare two encoded images; raises ImageDecodeError when either does not decode."""
    old, new = _open(before), _open(after)
    size = (max(old.width, new.width), max(old.height, new.height))
    a, b = _canvas(old, size), _canvas(new, size)
    # Largest channel difference per pixel, thresholded to a changed-pixel mask.
    channels = ImageChops.difference(a, b).split()
    largest = channels[0]
    for channel in channels[1:]:
        largest = ImageChops.lighter(largest, channel)
    changed = largest.point(lambda value: 255 if value > TOLERANCE else 0)
    # Where only one image has pixels is a change, whatever the colours say.
    only_one = ImageChops.difference(_coverage(old, size), _coverage(new, size))
    changed = ImageChops.lighter(changed, only_one)
    histogram = changed.histogram()
    changed_pixels = size[0] * size[1] - histogram[0]
    faded = Image.blend(Image.new("RGBA", size, (255, 255, 255, 255)), b.convert("L").convert("RGBA"), FADE)
    faded.paste(Image.new("RGBA", size, HIGHLIGHT), (0, 0), changed)
    out = io.BytesIO()
    faded.convert("RGB").save(out, format="PNG")
    return ImageComparison(
        before=ImageFacts(old.format or "unknown", old.width, old.height, len(before)),
        after=ImageFacts(new.format or "unknown", new.width, new.height, len(after)),
        changed_pixels=changed_pixels,
        total_pixels=size[0] * size[1],
        diff_png=out.getvalue(),
    )
