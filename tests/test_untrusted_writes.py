"""labgate writing into a folder a sandbox wrote: nothing on the way is followed.

After a `cfd/case` solve, labgate writes its post-processing controlDict into the case and puts its own
back afterwards. A `system` folder the sandbox replaced with a link to a host folder had labgate, as root,
delete and rewrite a `controlDict` there, twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from runs import UntrustedFileError, write_untrusted_text
from tools._workload import TaskError
from tools.cfd.cases._generic_run import _write


def _host_file(tmp_path: Path) -> Path:
    host = tmp_path / "host"
    host.mkdir()
    (host / "controlDict").write_text("HOST FILE\n")
    return host


def test_a_linked_folder_on_the_way_is_refused_and_the_host_file_kept(tmp_path: Path) -> None:
    host = _host_file(tmp_path)
    case = tmp_path / "case"
    case.mkdir()
    (case / "system").symlink_to(host)
    with pytest.raises(UntrustedFileError, match="cannot enter 'system'"):
        write_untrusted_text(case, "system/controlDict", "labgate's\n")
    with pytest.raises(TaskError, match="cannot write the case's system/controlDict"):
        _write(case, "system/controlDict", "labgate's\n")
    assert (host / "controlDict").read_text() == "HOST FILE\n"


@pytest.mark.parametrize("left", ["link", "folder", "file", "nothing"])
def test_whatever_stands_at_the_name_is_replaced_not_followed(tmp_path: Path, left: str) -> None:
    host = _host_file(tmp_path)
    system = tmp_path / "case" / "system"
    system.mkdir(parents=True)
    target = system / "controlDict"
    if left == "link":
        target.symlink_to(host / "controlDict")
    elif left == "folder":
        (target / "inner").mkdir(parents=True)
        (target / "inner" / "x").write_text("x")
    elif left == "file":
        target.write_text("the sandbox's\n")
    write_untrusted_text(tmp_path / "case", "system/controlDict", "labgate's\n")
    assert target.is_file() and not target.is_symlink() and target.read_text() == "labgate's\n"
    assert (host / "controlDict").read_text() == "HOST FILE\n"


def test_paths_leaving_the_folder_are_refused(tmp_path: Path) -> None:
    for relative in ("../escape", "/etc/x", ""):
        with pytest.raises(UntrustedFileError):
            write_untrusted_text(tmp_path, relative, "x")
