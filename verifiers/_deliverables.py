"""The deliverables gate: every promised output exists and carries information.

A figure that is one flat colour, a field that is uniform, or a table whose columns never
change is as useless as a missing file, so each kind of file gets a content check.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import Field

from runs import (
    MAX_ARTIFACT_BYTES,
    GateResult,
    UntrustedFileError,
    UntrustedFileMissingError,
    read_untrusted_path_text,
)
from tools.cfd import FieldFormatError, parse_internal_field, parse_xy
from verifiers._gate import Gate, GateContext
from verifiers._options import GateOptions

MAX_IMAGE_PIXELS = 16_000_000
"""Pixels decoded from one figure: a rendered figure has one or two million; a compressed bomb declares
far more, and Pillow's own limit (about 179 million) would still cost gigabytes as float arrays."""


def image_pixels(source: Path | bytes) -> npt.NDArray[np.float64]:
    """An image's pixels scaled to [0, 1] (a path, or bytes already read): L, RGB or RGBA.

    Raises:
        ValueError: not an image Pillow can decode, or one of more than MAX_IMAGE_PIXELS pixels.
    """
    return _image_bytes(source).astype(np.float64) / 255.0


def _image_bytes(source: Path | bytes) -> npt.NDArray[np.uint8]:
    """An image's 8-bit pixels: L, RGB or RGBA, any other mode converted to RGBA.

    Read with Pillow alone: the gates run in the run's own process, and importing matplotlib's image
    module there cost 0.35 s of every run for what Pillow does in a few milliseconds."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:  # a few hundred KB of PNG can declare gigabytes
                raise ValueError(f"{image.width}x{image.height} pixels, more than {MAX_IMAGE_PIXELS} to decode")
            image.load()
            kept = image if image.mode in ("L", "RGB", "RGBA") else image.convert("RGBA")
            return np.asarray(kept, dtype=np.uint8)
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValueError(str(error)) from error


def visible_colour(pixels: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The colours a reader sees (L or RGB), a transparent pixel showing the white page under it: colour
    behind an alpha of zero is never seen, so it must not make a blank figure pass for a drawn one."""
    if pixels.ndim == 3 and pixels.shape[-1] == 4:
        alpha = pixels[..., 3:4]
        return pixels[..., :3] * alpha + (1.0 - alpha)
    return pixels[..., :3] if pixels.ndim == 3 else pixels


_LEVELS = np.arange(256, dtype=np.float64) / 255.0
_LEVEL, _ALPHA = np.meshgrid(_LEVELS, _LEVELS, indexing="ij")
_SEEN_OVER_WHITE = visible_colour(np.stack([_LEVEL, _LEVEL, _LEVEL, _ALPHA], axis=-1))[..., 0].ravel()
"""`visible_colour` of every (channel level, alpha level) pair, at index level * 256 + alpha."""


def visible_colour_spread(pixels: npt.NDArray[np.uint8]) -> float:
    """The standard deviation of `visible_colour` over every channel of every pixel of 8-bit `pixels`.

    Counted from a histogram of the (level, alpha) pairs, whose seen colours are computed as
    `visible_colour` computes them: the same number, without the float arrays eight times the image's
    size that made the figure checks a quarter of a second of every CFD case's CPU."""
    if pixels.ndim == 3 and pixels.shape[-1] == 4:
        pairs = pixels[..., :3].astype(np.uint16) * 256 + pixels[..., 3:4]
        counts = np.bincount(pairs.ravel(), minlength=256 * 256)
        values = _SEEN_OVER_WHITE
    else:
        channels = pixels[..., :3] if pixels.ndim == 3 else pixels
        counts = np.bincount(channels.ravel(), minlength=256)
        values = _LEVELS
    weights = counts.astype(np.float64) / float(counts.sum())
    mean = float(np.dot(weights, values))
    return float(np.sqrt(np.dot(weights, (values - mean) ** 2)))


FLAT_SPREAD = 1e-3
"""The standard deviation of the seen colours (on 0..1) below which an image shows one flat colour."""

MIN_IMAGE_SIDE = 16
"""Pixels an image needs on its shorter side to show anything: two pixels of two colours are not flat, and
are still no figure of a flow field."""


def image_problem(source: Path | bytes) -> str | None:
    """Why an image is degenerate, or None when it shows something (a path, or bytes already read)."""
    try:
        pixels = _image_bytes(source)
    except ValueError as error:
        return f"cannot be read as an image ({error})"
    if pixels.size == 0:
        return "has no pixels"
    height, width = pixels.shape[:2]
    if min(height, width) < MIN_IMAGE_SIDE:
        return f"is {width}x{height} pixels: too small to show a result (at least {MIN_IMAGE_SIDE} on each side)"
    # Every sixteenth row first: the whole image's variance is at least the share of the values in those
    # rows times their own variance (the sum of squares about any mean is least about their own mean), so
    # a drawn figure is known not to be flat from them alone, exactly; a flat one is read whole.
    rows = pixels[::16]
    if visible_colour_spread(rows) ** 2 * (rows.size / pixels.size) >= FLAT_SPREAD**2:
        return None
    if visible_colour_spread(pixels) < FLAT_SPREAD:
        return "is a single flat colour"
    return None


def _text(source: Path | bytes) -> tuple[str, str]:
    if isinstance(source, bytes):
        return source.decode("utf-8", errors="replace"), "the file"
    return read_untrusted_path_text(source), str(source)


def field_problem(source: Path | bytes) -> str | None:
    """Why a field file carries no information, or None (a path, or bytes already read)."""
    try:
        text, name = _text(source)
        values = parse_internal_field(text, name, n_cells=1)
    except (FieldFormatError, UntrustedFileError) as error:
        return str(error)
    except ValueError as error:  # a value no float reads ('nan(ind)', '1.#QNAN'): a field, but not a number
        return f"holds a value that is not a number ({error})"
    if values.size == 0:
        return "is empty"
    if not np.all(np.isfinite(values)):
        return "contains non-finite values"
    if (values.ndim == 1 and values.size == 1) or float(np.max(np.ptp(np.atleast_2d(values.T), axis=-1))) == 0.0:
        return "is uniform (all cells hold the same value)"
    return None


def table_problem(source: Path | bytes) -> str | None:
    """Why a sample table carries no information, or None (a path, or bytes already read)."""
    try:
        text, name = _text(source)
        table = parse_xy(text, name)
    except (FieldFormatError, UntrustedFileError) as error:
        return str(error)
    if not np.all(np.isfinite(table)):
        return "contains non-finite values"
    if table.ndim != 2 or table.shape[0] < 2:
        return "has fewer than two rows"
    if table.shape[1] > 1 and not np.any(np.ptp(table[:, 1:], axis=0) > 0):
        return "has only constant data columns"
    return None


class DeliverablesOptions(GateOptions):
    required: list[str] = Field(
        default_factory=list,
        description="roles that must be present (on top of every file marked required); 'a|b' asks for either, "
        "'prefix-*' for at least one role starting with 'prefix-'",
    )


def _produced(required: str, roles: set[str]) -> bool:
    """Whether a required role was produced: `a|b` asks for either, `prefix-*` for at least one role of
    that prefix."""
    if "|" in required:
        return any(_produced(choice, roles) for choice in required.split("|") if choice)
    if required.endswith("*"):
        prefix = required[:-1]
        return bool(prefix) and any(role.startswith(prefix) and len(role) > len(prefix) for role in roles)
    return required in roles


class DeliverablesGate(Gate):
    """Options: see `DeliverablesOptions`.

    Every file is read through the gate context, which follows no link and reads regular files
    only; a file the harness refused (here or when it was stored) is a reason to reject: an honest
    solver leaves no links, devices or gigabyte logs where its outputs belong.
    """

    name = "deliverables"
    Options = DeliverablesOptions
    options: DeliverablesOptions

    def check(self, context: GateContext) -> GateResult:
        outcome = context.outcome
        reasons: list[str] = []
        if outcome.status != "completed":
            reasons.append(f"the experiment did not complete: {outcome.error or 'unknown error'}")
        if "analysis_error" in outcome.info:
            reasons.append(f"post-processing failed: {outcome.info['analysis_error']}")
        reasons += [f"refused to read {refusal}" for refusal in outcome.refused]
        roles = {item.role for item in outcome.files}
        for role in self.options.required:
            if not _produced(role, roles):
                reasons.append(f"required deliverable '{role}' was not produced")
        checked: list[str] = []
        for item in outcome.files:
            if not item.required:
                continue
            try:
                data = context.read_bytes(item.path, max_bytes=MAX_ARTIFACT_BYTES)
            except UntrustedFileMissingError:
                reasons.append(f"{item.role} ({item.path}) is missing")
                continue
            except UntrustedFileError as error:
                if not any(reason.startswith(f"refused to read {item.path}: ") for reason in reasons):
                    reasons.append(f"refused to read {item.path}: {error.reason}")
                continue
            if not data:
                reasons.append(f"{item.role} ({item.path}) is empty")
                continue
            checker = {"image": image_problem, "field": field_problem, "table": table_problem}.get(item.kind)
            problem = checker(data) if checker else None
            if problem:
                reasons.append(f"{item.role} ({item.path}) {problem}")
            checked.append(item.path)
        evidence = context.digests(checked)
        if reasons:
            return self.verdict("reject", reasons, evidence=evidence)
        return self.verdict("accept", [f"{len(checked)} deliverables present and non-degenerate"], evidence=evidence)
