"""Probes a hostile command runs inside a sandbox, shared by the local and docker backends' tests."""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path

from sandboxes import Sandbox

# Sandbox A: leaves a marker in every shared place it can, then waits.
NEIGHBOUR = r"""
import os, socket, subprocess, sys
marker = sys.argv[1]
open(f"/dev/shm/{marker}", "w").write(marker)
open(f"/tmp/{marker}", "w").write(marker)
open(f"{marker}.txt", "w").write(marker)
subprocess.run(["ipcmk", "-M", "4096"], check=True, capture_output=True)
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind("\0" + marker)
listener.listen(1)
print("ready", os.getpid(), flush=True)
sys.stdin.readline()
"""

# Sandbox B: looks for A (and labgate) everywhere A could be found, and tries to signal every process it sees.
INTRUDER = r"""
import os, signal, socket, subprocess, sys
marker, host_pid, neighbour_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
report = []
for path in (neighbour_dir, f"{neighbour_dir}/{marker}.txt", f"../a/{marker}.txt"):
    if os.path.exists(path):
        report.append(f"sees the neighbour's directory at {path}")
me = os.getuid()
for entry in os.listdir("/proc"):
    if not entry.isdigit():
        continue
    try:
        cmdline = open(f"/proc/{entry}/cmdline", "rb").read()
    except OSError:
        continue
    if marker.encode() in cmdline and b"intruder" not in cmdline:
        report.append(f"sees the neighbour's process {entry}")
    if b"pytest" in cmdline and b"intruder" not in cmdline:
        report.append(f"sees labgate's process {entry}")
    if os.stat(f"/proc/{entry}").st_uid != me:
        try:
            os.kill(int(entry), 0)
            report.append(f"can signal pid {entry} of another uid")
        except OSError:
            pass
for place in ("/dev/shm", "/tmp"):
    if any(marker in name for name in os.listdir(place)):
        report.append(f"sees the neighbour's {place}")
if "4096" in subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout:
    report.append("sees the neighbour's System V shared memory")
client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    client.connect("\0" + marker)
    report.append("reached the neighbour's abstract socket")
except OSError:
    pass
try:
    os.kill(host_pid, 0)
    if host_pid != os.getpid():
        report.append(f"can signal pid {host_pid} (labgate's number on the host)")
except OSError:
    pass
print("report:", report)
"""

DESCRIPTORS = (
    "import os\n"
    "for n in range(3, 1024):\n"
    "    try: print(n, os.readlink(f'/proc/self/fd/{n}'), os.pread(n, 200, 0))\n"
    "    except OSError: pass\n"
)
"""Prints every descriptor the command holds beyond stdin, stdout and stderr, with its first bytes."""


def neighbour_report(first: Sandbox, second: Sandbox) -> str:
    """What `second` finds of a command running in `first` (and of labgate): its output, `report: []` if nothing."""
    marker = f"labgate-neighbour-{uuid.uuid4().hex}"
    neighbour = first.spawn(["python3", "-c", NEIGHBOUR, marker])
    try:
        ready = neighbour.stdout.readline().decode()
        assert ready.startswith("ready"), neighbour.stderr_tail()
        intruder = ["python3", "-c", INTRUDER, marker, str(os.getpid()), str(first.workdir), "intruder"]
        result = second.exec(intruder, timeout=60)
    finally:
        neighbour.kill()
    return result.stdout + result.stderr


def inherited_descriptors(sandbox: Sandbox, tmp_path: Path) -> tuple[str, str]:
    """(a secret, what the sandbox read) with labgate holding an inheritable store file and pipe open."""
    secret = f"labgate-fd-secret-{secrets.token_hex(8)}"
    store = tmp_path / "labgate.db"
    store.write_text(secret)
    fd = os.open(store, os.O_RDONLY)
    reader, writer = os.pipe()
    os.set_inheritable(fd, True)
    os.set_inheritable(reader, True)
    try:
        result = sandbox.exec(["python3", "-c", DESCRIPTORS], timeout=60)
    finally:
        for descriptor in (fd, reader, writer):
            os.close(descriptor)
    return secret, result.stdout + result.stderr
