"""Fetch miniF2F in Lean 4 or Isabelle from its public repository (optional data; needs network).

    python -m tools.proofs.fetch --prover lean4|isabelle [--dest DIR] [--source URL] [--ref REF]

Lean 4: yangky11/miniF2F-lean4 (`MiniF2F/Valid/*.lean`, `MiniF2F/Test/*.lean`, each file the set's
header then one theorem). Isabelle: openai/miniF2F (`isabelle/valid/*.thy`, `isabelle/test/*.thy`).
The repository is cloned shallowly with git, the statement files are copied to
`DEST/<prover>/<split>/` (DEST: LABGATE_PROOF_DATA, else ~/.labgate/proof-data) with the
repository's licence and a SOURCE.md naming the repository and commit, and the clone is removed.
Afterwards `proofs/minif2f-valid-lean4` (or `-isabelle`) is in the catalog, and any miniF2F task
runs in that prover with `--param prover=lean4`. Nothing here is needed by the default tests.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.proofs._foreign_data import SUFFIXES, data_dir

SOURCES = {
    "lean4": ("https://github.com/yangky11/miniF2F-lean4", {"valid": "MiniF2F/Valid", "test": "MiniF2F/Test"}),
    "isabelle": ("https://github.com/openai/miniF2F", {"valid": "isabelle/valid", "test": "isabelle/test"}),
}


def fetch(prover: str, dest: Path, source: str | None = None, ref: str | None = None) -> dict[str, int]:
    """Clone, copy the statement files of both splits, record where they came from; files per split.

    Raises:
        RuntimeError: git failed (no network, unknown repository or ref) or the layout is not the expected one.
    """
    url, folders = SOURCES[prover]
    url = source or url
    with tempfile.TemporaryDirectory(prefix="labgate-fetch-") as scratch:
        clone = Path(scratch) / "repo"
        command = ["git", "clone", "--quiet", "--depth", "1", *(["--branch", ref] if ref else []), url, str(clone)]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"git clone {url} failed: {done.stderr.strip() or done.returncode}")
        commit = subprocess.run(
            ["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        counts: dict[str, int] = {}
        for split, folder in folders.items():
            files = sorted((clone / folder).glob(f"*{SUFFIXES[prover]}"))
            if not files:
                raise RuntimeError(f"{url} has no {folder}/*{SUFFIXES[prover]} (has its layout changed?)")
            target = dest / prover / split
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            for path in files:
                shutil.copyfile(path, target / path.name)
            counts[split] = len(files)
        licence = next(
            (clone / name for name in ("LICENSE", "LICENSE.md", "LICENSE.txt") if (clone / name).is_file()), None
        )
        if licence is not None:
            shutil.copyfile(licence, dest / prover / "LICENSE")
        (dest / prover / "SOURCE.md").write_text(
            f"# miniF2F in {prover}\n\nFetched by `python -m tools.proofs.fetch --prover {prover}` from {url} "
            f"at commit {commit or 'unknown'}; the repository's licence is in LICENSE beside this file.\n"
        )
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--prover", choices=sorted(SOURCES), required=True)
    parser.add_argument("--dest", type=Path, default=None, help="default: LABGATE_PROOF_DATA or ~/.labgate/proof-data")
    parser.add_argument("--source", default=None, help="another clone URL or path with the same layout")
    parser.add_argument("--ref", default=None, help="a branch or tag to fetch")
    args = parser.parse_args(argv)
    dest = args.dest or data_dir()
    try:
        counts = fetch(args.prover, dest, args.source, args.ref)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    total = ", ".join(f"{split}: {count}" for split, count in counts.items())
    print(f"miniF2F in {args.prover} fetched to {dest / args.prover} ({total})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
