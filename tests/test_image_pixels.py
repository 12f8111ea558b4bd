"""The gates' image reader: every PNG mode a plotting tool writes, scaled alike; what is not an image,
or would decompress past Pillow's limit, is a named problem, never a crash of the gate."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from verifiers import image_problem
from verifiers.cfd import blank_fraction


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _gradient(mode: str) -> Image.Image:
    ramp = np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (32, 1))
    return Image.fromarray(ramp, mode="L").convert(mode)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "LA", "I;16"])
def test_every_mode_is_read_and_a_gradient_is_not_degenerate(mode: str, tmp_path: Path) -> None:
    data = _png(_gradient(mode))
    assert image_problem(data) is None
    path = tmp_path / "figure.png"
    path.write_bytes(data)
    assert image_problem(path) is None
    assert 0.0 <= blank_fraction(path) < 0.1


def test_flat_and_blank_images_are_named() -> None:
    white = _png(Image.new("RGB", (40, 30), "white"))
    assert image_problem(white) == "is a single flat colour"
    assert blank_fraction(white) == 1.0


def test_what_is_not_an_image_is_a_problem_not_a_crash() -> None:
    assert (image_problem(b"not a png at all") or "").startswith("cannot be read as an image")
    truncated = _png(_gradient("RGB"))[:60]
    assert (image_problem(truncated) or "").startswith("cannot be read as an image")


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    """A 30000x30000 grayscale PNG of zeros is a few hundred kB on disk and 900 MB decoded."""
    width = height = 30_000
    row = b"\x00" + bytes(width)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    assert len(bomb) < 2 << 20
    problem = image_problem(bomb) or ""
    assert problem.startswith("cannot be read as an image") and "decompression bomb" in problem.lower(), problem


@pytest.mark.parametrize("size", [(2, 1), (1, 400), (15, 300)])
def test_an_image_too_small_to_show_a_result_is_named(size: tuple[int, int]) -> None:
    """Got through before: a 2-pixel PNG of two colours was not flat, so it passed as a figure."""
    width, height = size
    pixels = (np.arange(width * height).reshape(height, width) % 2 * 255).astype(np.uint8)
    problem = image_problem(_png(Image.fromarray(pixels, mode="L")))
    assert problem is not None and f"is {width}x{height} pixels: too small" in problem, problem
    assert image_problem(_png(_gradient("L").resize((16, 16)))) is None  # small, but enough to show something


def _spread_per_pixel(data: bytes) -> float:
    """The flatness measure computed pixel by pixel in floats, as the gate computed it before the histogram."""
    from verifiers._deliverables import image_pixels, visible_colour

    return float(np.std(visible_colour(image_pixels(data))))


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_histogram_spread_is_the_per_pixel_spread(mode: str, seed: int) -> None:
    from verifiers._deliverables import _image_bytes, visible_colour_spread

    rng = np.random.default_rng(seed)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    pixels = rng.integers(0, 256, size=(37, 53, channels), dtype=np.uint8)
    if mode == "RGBA":
        pixels[::3, :, 3] = 0  # hidden rows and opaque ones beside the random alphas
        pixels[1::3, :, 3] = 255
    data = _png(Image.fromarray(pixels.squeeze(), mode=mode))
    assert visible_colour_spread(_image_bytes(data)) == pytest.approx(_spread_per_pixel(data), rel=1e-12, abs=1e-15)


def _near_flat(off: int, *, rows: str = "any", hidden: bool = False) -> bytes:
    """A white 256x256 RGBA page with `off` pixels a shade darker: near the flatness threshold."""
    pixels = np.full((256, 256, 4), 255, dtype=np.uint8)
    row_choices = [r for r in range(256) if r % 16 != 0] if rows == "unsampled" else list(range(256))
    for index in range(off):
        pixels[row_choices[index % len(row_choices)], index // len(row_choices), :3] = 235
        if hidden:
            pixels[row_choices[index % len(row_choices)], index // len(row_choices), 3] = 0
    return _png(Image.fromarray(pixels, mode="RGBA"))


@pytest.mark.parametrize("off", [0, 1, 9, 10, 11, 12, 160, 5000])
@pytest.mark.parametrize("rows", ["any", "unsampled"])
def test_near_the_threshold_the_verdict_is_the_per_pixel_one(off: int, rows: str) -> None:
    """The fast path (every sixteenth row) may only ever say "not flat" when the whole image is not."""
    data = _near_flat(off, rows=rows)
    flat_per_pixel = _spread_per_pixel(data) < 1e-3
    assert (image_problem(data) == "is a single flat colour") == flat_per_pixel
    hidden = _near_flat(off, rows=rows, hidden=True)  # the darker pixels are transparent: white is seen
    assert image_problem(hidden) == "is a single flat colour"


def test_the_threshold_cases_above_fall_on_both_sides_of_it() -> None:
    """The parametrised counts straddle the threshold: ten darker pixels are flat, eleven are not."""
    assert _spread_per_pixel(_near_flat(10)) < 1e-3 < _spread_per_pixel(_near_flat(11))
    assert image_problem(_near_flat(10)) == "is a single flat colour" and image_problem(_near_flat(11)) is None


def test_a_drawing_only_between_the_sampled_rows_is_seen() -> None:
    pixels = np.full((320, 320), 255, dtype=np.uint8)
    for row in range(320):
        if row % 16:
            pixels[row, 100:140] = 0  # a bar broken exactly at every sixteenth row
    assert image_problem(_png(Image.fromarray(pixels, mode="L"))) is None
