"""`agent images`: build the tool images offline and see which are present.

`agent images build` makes the Debian base with debootstrap when it is missing, then builds each
named image whose content tag is not on this machine yet; nothing is pulled from a registry.
"""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from api._terminal import TerminalConsole, printable, printable_block, printable_cells
from sandboxes import (
    DEFAULT_MIRROR,
    SandboxError,
    build_images,
    connect_engine,
    image_names,
    image_statuses,
    needs_internet,
)


def _fail(message: str) -> SystemExit:
    """The engine or a build failed: one line (plus a build's last lines, indented) on stderr, exit 1."""
    print(printable_block(f"agent: error: {message}"), file=sys.stderr)
    return SystemExit(1)


@click.group("images", help="Tool images for the docker sandbox, built with no registry.")
def images_group() -> None:
    pass


@images_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
def list_command(as_json: bool) -> None:
    """Every shipped image, its content tag and whether this machine has it."""
    try:
        statuses = image_statuses(connect_engine())
    except SandboxError as error:
        raise _fail(str(error)) from None
    if as_json:
        rows = [
            {"name": s.name, "reference": s.reference, "present": s.present, "needs_internet": s.needs_internet}
            for s in statuses
        ]
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    table = Table("image", "tag", "present", "needs", box=None)
    for status in statuses:
        table.add_row(
            *printable_cells(
                status.name,
                status.reference,
                "yes" if status.present else "no",
                "internet" if status.needs_internet else "Debian mirror",
            )
        )
    TerminalConsole().print(table)


@images_group.command("build")
@click.argument("names", nargs=-1)
@click.option("--all", "build_all", is_flag=True, help="also the images that download from outside Debian")
@click.option("--force", is_flag=True, help="rebuild even when the content tag exists")
@click.option("--mirror", default=DEFAULT_MIRROR, show_default=True, help="Debian mirror for the base and apt-get")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object at the end")
def build_command(names: tuple[str, ...], build_all: bool, force: bool, mirror: str, as_json: bool) -> None:
    """Build NAMES (default: every image that needs only the Debian mirror)."""
    known = image_names()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise click.BadParameter(f"unknown image {unknown[0]!r}; known: {', '.join(known)}", param_hint="NAMES")
    chosen = list(names) or [name for name in known if build_all or not needs_internet(name)]
    stream = sys.stderr if as_json else sys.stdout

    def log(line: str) -> None:  # a build step's line quotes the image's Dockerfile and the build's output
        print(printable(line), file=stream, flush=True)

    try:
        outcomes = build_images(chosen, force=force, mirror=mirror, log=log)
    except SandboxError as error:
        raise _fail(str(error)) from None
    if as_json:
        rows = [
            {"name": o.name, "reference": o.reference, "action": o.action, "seconds": round(o.seconds, 1)}
            for o in outcomes
        ]
        sys.stdout.write(json.dumps({"images": rows}) + "\n")
