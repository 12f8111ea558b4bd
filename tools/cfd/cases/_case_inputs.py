"""A digest of what a user's case gives a run, so that a finer re-run can be shown to run the same case.

The mesh-independence gate re-runs a user's case from its folder, which the user (or anything else) may
change between the two runs; a changed case compared with the first run's answer says nothing about the
mesh. Both runs therefore record a digest of their copy's inputs, and the gate compares them.

Inputs are what a re-run copies and runs from: every file but the results, that is, not the time folders
after the first (the initial conditions), nor `processor*`, `postProcessing`, `dynamicCode` and `log.*`,
so an adopted case (copied with its results) and its re-run digest alike. The user's reference file, which
both runs copy, is part of the inputs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from runs import UntrustedFileError, read_untrusted, walk_untrusted
from tools.cfd.openfoam._fields import numbered_directories
from tools.cfd.openfoam._logs import MAX_LOG_BYTES

RESULTS = ("processor*", "postProcessing", "dynamicCode", "log.*")
"""Top-level names a re-run does not copy: results of an earlier run, not inputs."""


def _result_folders(case: Path) -> set[str]:
    times = numbered_directories(case)
    return {folder.name for _, folder in times[1:]}


def inputs_digest(case: Path) -> str:
    """SHA-256 over the relative path and bytes of every input file of a fresh copy of a case (see the
    module doc); taken before anything runs in it. Links and special files are never copied: skipped."""
    results = _result_folders(case)
    digest = hashlib.sha256()
    files = []
    for entry in walk_untrusted(case):
        top = entry.relative.split("/", 1)[0]
        if top in results or any(PurePosixPath(top).match(pattern) for pattern in RESULTS):
            continue
        if entry.kind == "file":
            files.append(entry.relative)
    for relative in sorted(files):
        try:
            data = read_untrusted(case, relative, max_bytes=MAX_LOG_BYTES)
        except UntrustedFileError as error:  # changed while read: a digest no other run can match
            data = f"unreadable: {error}".encode()
        digest.update(f"{relative}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def with_reference(digest: str, reference: Path) -> str:
    """`digest` extended by the bytes of the run's copy of the user's reference data."""
    return hashlib.sha256(f"{digest}\0reference\0".encode() + reference.read_bytes()).hexdigest()
