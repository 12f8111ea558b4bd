"""The host identity a local sandbox runs as when labgate itself runs as root.

bubblewrap started by root maps the sandbox's user onto host uid 0: files under /proc/sys stay
writable, root-only files are readable, a set-uid root binary can be left behind. So a root
labgate never hands root to a candidate: each local sandbox gets a fresh unprivileged uid and gid
(no passwd entry needed), and every command is started through `setpriv` as that uid, with no
supplementary groups, no inheritable or bounding capabilities and `no_new_privs`, before
bubblewrap makes its own user namespace. bubblewrap then maps the sandbox user onto that uid, so
nothing inside maps to host root.

The experiment directory is lent to the uid for as long as one of its commands runs and taken
back after the last one ends (`DirectoryGrant`): ownership returns to the directory's owner and
set-id bits are stripped, so the harness reads back plain files it owns.

As an ordinary user nothing changes hands: bubblewrap's user namespace already maps the sandbox
onto that user, who holds no privilege to lose.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sandboxes._ownership import DirectoryGrant, UidAllocator, ensure_reachable

_allocator = UidAllocator()


@dataclass
class _Lease:
    uid: int
    grant: DirectoryGrant
    holders: int = 0


_leases: dict[Path, _Lease] = {}
_leases_lock = threading.Lock()


@dataclass(frozen=True)
class HostIdentity:
    """One sandbox's unprivileged host uid (its gid is the same number)."""

    uid: int

    @classmethod
    def for_this_process(cls) -> HostIdentity | None:
        """A fresh identity when labgate runs as root; None otherwise (the user's own uid is used)."""
        if os.geteuid() != 0:
            return None
        return cls(_allocator.allocate())

    def lend(self, workdir: Path, ro_paths: Sequence[Path]) -> HostIdentity:
        """Lend `workdir` for one command; returns the identity the command must run as.

        The first holder hands the directory to its own uid. While a command holds it, any other
        command in the same directory (a worker and an exec, two sandboxes made for one directory)
        joins that uid and only hands over what the harness wrote since, so no command ever has
        the files it is writing taken away mid-run.
        """
        with _leases_lock:
            ensure_reachable(workdir)
            for path in ro_paths:
                ensure_reachable(path)
            lease = _leases.get(workdir)
            if lease is None:
                lease = _Lease(self.uid, DirectoryGrant.lend(workdir, self.uid, self.uid))
                _leases[workdir] = lease
            else:
                lease.grant.refresh()
            lease.holders += 1
            return HostIdentity(lease.uid)

    @staticmethod
    def give_back(workdir: Path) -> None:
        """End one command's hold; the last one returns the directory to its owner, set-id bits stripped.

        Callers kill every process of the command first, so nothing of the uid writes during the walk.
        """
        with _leases_lock:
            lease = _leases.get(workdir)
            if lease is None:
                return
            lease.holders -= 1
            if lease.holders > 0:
                return
            del _leases[workdir]
            lease.grant.revoke()

    def setpriv_prefix(self) -> list[str]:
        """argv prefix that drops to this uid for good before the sandbox is built."""
        return [
            "setpriv",
            f"--reuid={self.uid}",
            f"--regid={self.uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]
