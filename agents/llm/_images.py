"""Figures made fit for a vision model: decoded, bounded in pixels and bytes, re-encoded.

Vision endpoints refuse or silently downscale large images (a long side above about 1568 px, a
payload above a few MB), and a figure from an experiment directory is untrusted data. So every
image is decoded here (a decompression bomb is refused before its pixels are read), shrunk to
the configured long side, and re-encoded as PNG, or JPEG when PNG would exceed the byte bound.
Re-encoding also drops any text chunks or metadata the file carried.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from agents.llm._base import LLMError

if TYPE_CHECKING:
    from PIL.Image import Image

MAX_SOURCE_BYTES = 64 << 20
MAX_SOURCE_PIXELS = 64_000_000


class ImagePreparationError(LLMError):
    """An image could not be made fit to send: unreadable, not an image, or too large to decode safely."""


def _source_bytes(image: Path | bytes) -> bytes:
    if isinstance(image, bytes):
        return image
    from runs import UntrustedFileError, read_untrusted_path

    try:
        return read_untrusted_path(image, max_bytes=MAX_SOURCE_BYTES)
    except UntrustedFileError as error:
        raise ImagePreparationError(f"cannot read the image {image.name}: {error}") from None


def prepare_image(image: Path | bytes, *, max_side: int, max_bytes: int) -> tuple[str, bytes]:
    """The image as (media type, bytes): long side at most `max_side` px, at most `max_bytes` bytes.

    Raises:
        ImagePreparationError: the data is no decodable image, too many pixels, or cannot be
            brought under `max_bytes` even as a small JPEG.
    """
    from PIL import Image, UnidentifiedImageError

    data = _source_bytes(image)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            if width * height > MAX_SOURCE_PIXELS:
                raise ImagePreparationError(f"the image has {width}x{height} pixels, too many to decode")
            picture = opened.convert("RGBA" if "A" in opened.getbands() else "RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise ImagePreparationError(f"not a decodable image ({type(error).__name__})") from None
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    encoded = _encode(picture, "PNG")
    if len(encoded) <= max_bytes:
        return "image/png", encoded
    flat = picture.convert("RGB")
    for quality in (90, 80, 70, 55):
        encoded = _encode(flat, "JPEG", quality=quality)
        if len(encoded) <= max_bytes:
            return "image/jpeg", encoded
    while min(flat.size) > 64:
        flat = flat.resize((max(1, flat.width * 3 // 4), max(1, flat.height * 3 // 4)), Image.Resampling.LANCZOS)
        encoded = _encode(flat, "JPEG", quality=70)
        if len(encoded) <= max_bytes:
            return "image/jpeg", encoded
    raise ImagePreparationError(f"the image cannot be brought under {max_bytes} bytes")


def _encode(picture: Image, kind: str, **options: int) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=kind, **options)
    return buffer.getvalue()
