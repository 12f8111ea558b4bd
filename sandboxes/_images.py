"""Tool images: one `images/<name>/Dockerfile` each, built with no registry, tagged by content.

No image is ever pulled. The base, `labgate/debian:bookworm`, is made on this machine with
`debootstrap --variant=minbase` and imported into the engine; the tool images are `docker build`s
`FROM` it whose `apt-get` reaches the Debian mirror only. Each tool image is tagged
`labgate/<name>:<digest>`, the digest being a hash of its build directory (the Dockerfile and any
file beside it), so a sandbox always asks for the image its current Dockerfile describes, and a
build is skipped when that tag already exists.

A Dockerfile whose first lines carry `# labgate: needs-internet` downloads from outside Debian
(Lean, Isabelle): it is built only when named or with `--all`, on machines with network access.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sandboxes._base import SandboxError, SandboxUnavailableError
from sandboxes._engine import connect, engine_errors, is_not_found

IMAGES_DIR = Path(__file__).resolve().parent / "images"
IMAGE_REPOSITORY = "labgate"
BASE_IMAGE = "labgate/debian:bookworm"
BASE_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
NEEDS_INTERNET = "labgate: needs-internet"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

Log = Callable[[str], None]


class ImageBuildError(SandboxError):
    """An image could not be built; the message carries the failing step's last lines."""


def image_names() -> list[str]:
    """Every image labgate ships a Dockerfile for."""
    if not IMAGES_DIR.is_dir():
        return []
    return sorted(p.name for p in IMAGES_DIR.iterdir() if (p / "Dockerfile").is_file() and _NAME.match(p.name))


def image_directory(name: str) -> Path:
    if name not in image_names():
        raise ValueError(f"unknown image {name!r}; known: {', '.join(image_names()) or 'none'}")
    return IMAGES_DIR / name


def context_digest(name: str) -> str:
    """A hash of everything in the image's build directory: names and contents, in a fixed order."""
    directory = image_directory(name)
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def image_reference(name: str) -> str:
    """`labgate/<name>:<digest>`: the tag the current Dockerfile builds."""
    return f"{IMAGE_REPOSITORY}/{name}:{context_digest(name)}"


def resolve_image(image: str) -> str:
    """A shipped image's name (`openfoam`) becomes its content tag; anything else is taken as a reference."""
    return image_reference(image) if image in image_names() else image


def build_command(image: str) -> str:
    """The command that makes `image` (by name or reference) exist on this machine."""
    for name in image_names():
        if image in (name, image_reference(name)) or image.startswith(f"{IMAGE_REPOSITORY}/{name}:"):
            return f"agent images build {name}"
    return f"docker build -t {image} <context> (labgate never pulls images)"


def needs_internet(name: str) -> bool:
    head = (image_directory(name) / "Dockerfile").read_text(errors="replace").splitlines()[:10]
    return any(NEEDS_INTERNET in line for line in head if line.lstrip().startswith("#"))


def base_of(name: str) -> str | None:
    """The image of the first FROM line (build-stage flags skipped), or None when there is none."""
    for line in (image_directory(name) / "Dockerfile").read_text(errors="replace").splitlines():
        words = line.split()
        if words and words[0].upper() == "FROM":
            rest = [word for word in words[1:] if not word.startswith("--")]
            return rest[0] if rest else None
    return None


def image_exists(client: Any, reference: str) -> bool:
    try:
        client.images.get(reference)
    except engine_errors() as error:
        if is_not_found(error):
            return False
        raise
    return True


def require_image(client: Any, reference: str) -> dict[str, Any]:
    """The image's attributes; a missing image raises with the command that builds it."""
    try:
        image = client.images.get(reference)
    except engine_errors() as error:
        if is_not_found(error):
            raise SandboxUnavailableError(
                f"docker image {reference} is not on this machine: build it with `{build_command(reference)}`"
            ) from None
        raise SandboxUnavailableError(f"the Docker engine could not inspect image {reference}: {error}") from None
    return dict(image.attrs)


@dataclass(frozen=True)
class ImageStatus:
    name: str
    reference: str
    present: bool
    needs_internet: bool


def image_statuses(client: Any) -> list[ImageStatus]:
    return [
        ImageStatus(name, image_reference(name), image_exists(client, image_reference(name)), needs_internet(name))
        for name in image_names()
    ]


@dataclass(frozen=True)
class BuildOutcome:
    name: str
    reference: str
    action: str  # "built" or "cached"
    seconds: float


def check_mirror(mirror: str) -> None:
    """Refuse a mirror the base image must not record: its URL is written into the image's apt sources,
    which every layer above keeps and every sandbox could read, so credentials in it would be theirs.

    Raises:
        ImageBuildError: naming what is wrong (credentials, a scheme debootstrap does not fetch from).
    """
    parts = urlsplit(mirror)
    if parts.scheme not in ("http", "https", "file") or not (parts.netloc or parts.scheme == "file"):
        raise ImageBuildError(f"mirror {mirror!r} is not an http, https or file URL of a Debian mirror")
    if parts.username is not None or parts.password is not None:
        raise ImageBuildError(
            "the mirror URL carries credentials (user:password@): they would be stored in the image's apt "
            "sources, readable by every sandbox; use a mirror (or a local proxy) that needs none"
        )


def _apt_sources(mirror: str) -> str:
    lines = [f"deb {mirror} {BASE_SUITE} main", f"deb {mirror} {BASE_SUITE}-updates main"]
    if mirror.rstrip("/").endswith("deb.debian.org/debian"):
        lines.append(f"deb {mirror.rstrip('/')}-security {BASE_SUITE}-security main")
    return "\n".join(lines) + "\n"


def _tar_stream(root: Path) -> Iterator[bytes]:
    """The root filesystem as a tar stream (GNU tar keeps owners, modes, links and device nodes)."""
    process = subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    try:
        while chunk := process.stdout.read(1 << 20):
            yield chunk
    finally:
        process.stdout.close()
        _, stderr = process.communicate()
        if process.returncode != 0:
            raise ImageBuildError(f"tar of the base filesystem failed: {stderr.decode(errors='replace')[-400:]}")


def build_base(client: Any, *, mirror: str = DEFAULT_MIRROR, log: Log = print) -> float:
    """debootstrap a minimal Debian into a temporary directory and import it as BASE_IMAGE."""
    if os.geteuid() != 0:
        raise ImageBuildError(f"building {BASE_IMAGE} runs debootstrap, which needs root: run this as root")
    if shutil.which("debootstrap") is None:
        raise ImageBuildError(f"building {BASE_IMAGE} needs debootstrap: apt-get install debootstrap")
    start = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="labgate-base-", dir=os.environ.get("LABGATE_BUILD_TMP")))
    root = scratch / "root"
    try:
        log(f"debootstrap --variant=minbase {BASE_SUITE} from {mirror}")
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", BASE_SUITE, str(root), mirror],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-12:])
            raise ImageBuildError(f"debootstrap failed (exit {result.returncode}):\n{tail}")
        (root / "etc/apt/sources.list").write_text(_apt_sources(mirror))
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (root / leftover).glob("*"):
                if item.is_file():
                    item.unlink()
        log(f"importing the base filesystem as {BASE_IMAGE}")
        repository, tag = BASE_IMAGE.split(":")
        client.api.import_image_from_data(
            _tar_stream(root),
            repository=repository,
            tag=tag,
            changes=["ENV LANG=C.UTF-8", 'CMD ["/bin/sh"]', f"LABEL org.labgate.base={BASE_SUITE}-minbase"],
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return time.monotonic() - start


def _stream_build(client: Any, name: str, reference: str, log: Log) -> None:
    tail: list[str] = []
    for event in client.api.build(
        path=str(image_directory(name)), tag=reference, rm=True, forcerm=True, pull=False, decode=True
    ):
        if "error" in event:
            detail = "\n".join(tail[-15:])
            raise ImageBuildError(f"building {reference} failed: {str(event['error']).strip()}\n{detail}")
        text = str(event.get("stream", "")).rstrip()
        if text:
            tail.append(text)
            if text.startswith("Step ") or text.startswith("Successfully"):
                log(f"  {name}: {text}")


def build_images(
    names: list[str],
    *,
    force: bool = False,
    mirror: str = DEFAULT_MIRROR,
    log: Log = print,
    client: Any = None,
) -> list[BuildOutcome]:
    """Build each named image unless its content tag exists (or `force`); the base first when needed."""
    check_mirror(mirror)
    for name in names:
        image_directory(name)
    client = client or connect()
    outcomes = []
    for name in names:
        reference = image_reference(name)
        if not force and image_exists(client, reference):
            log(f"{name}: {reference} is up to date")
            outcomes.append(BuildOutcome(name, reference, "cached", 0.0))
            continue
        start = time.monotonic()
        base = base_of(name)
        if base == BASE_IMAGE and not image_exists(client, BASE_IMAGE):
            seconds = build_base(client, mirror=mirror, log=log)
            log(f"{BASE_IMAGE} built in {seconds:.0f} s")
        log(f"{name}: building {reference}")
        _stream_build(client, name, reference, log)
        with contextlib.suppress(Exception):
            client.images.get(reference).tag(f"{IMAGE_REPOSITORY}/{name}", "latest")
        seconds = time.monotonic() - start
        log(f"{name}: built in {seconds:.0f} s")
        outcomes.append(BuildOutcome(name, reference, "built", seconds))
    return outcomes
