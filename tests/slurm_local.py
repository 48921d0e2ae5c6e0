"""A one-node SLURM on this machine for the test suite: munge, slurmctld and slurmd on localhost.

Everything lives in a private folder (config, munge key and socket, state, logs) on ports
of its own, so it touches neither ``/etc/slurm`` nor another SLURM. Needs Debian's
``slurmctld slurmd slurm-client munge`` and root (slurmd launches jobs as their user).
Daemons are stopped by the process ids they wrote, never by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["LocalSlurm", "missing"]

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")
#: seconds to wait for the node to come up idle.
START_TIMEOUT = 60.0


def missing() -> str | None:
    """Why a local SLURM cannot start here, or None."""
    absent = [b for b in BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]
    if absent:
        return (f"no {', '.join(absent)}: apt-get install slurmctld slurmd slurm-client munge"
                " (.ci/run does on Debian)")
    if os.geteuid() != 0:
        return "slurmd must run as root to launch jobs"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exe(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


class LocalSlurm:
    """Start with :meth:`start`, stop with :meth:`stop`; :attr:`env` points clients at it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.conf = self.folder / "slurm.conf"
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))

    def _write_config(self) -> None:
        d = self.folder
        for sub in ("state", "spool"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        host = socket.gethostname()
        memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20 // 2
        self.conf.write_text(f"""\
ClusterName=lossfilmtest
SlurmctldHost={host}(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/munge.sock
SlurmUser=root
SlurmdUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} RealMemory={memory_mb} State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")

    def start(self) -> LocalSlurm:
        d = self.folder
        d.mkdir(parents=True, exist_ok=True)
        self._write_config()
        key = d / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        subprocess.run([_exe("munged"), "--force", f"--socket={d}/munge.sock", f"--key-file={key}",
                        f"--log-file={d}/munged.log", f"--pid-file={d}/munged.pid",
                        f"--seed-file={d}/munged.seed"], check=True, env=self.env)
        subprocess.run([_exe("slurmctld"), "-f", str(self.conf)], check=True, env=self.env)
        subprocess.run([_exe("slurmd"), "-f", str(self.conf)], check=True, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            state = self.run("sinfo", "-h", "-o", "%T").stdout.strip()
            if state == "idle":
                return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the local SLURM node did not come up idle (state {state!r}); logs in {d}")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([_exe(args[0]), *args[1:]], capture_output=True, text=True, env=self.env)

    def jobs(self) -> list[tuple[str, str]]:
        """``(job id, state)`` of the jobs in the queue."""
        out = self.run("squeue", "-h", "-o", "%i %T").stdout.split()
        return list(zip(out[::2], out[1::2]))

    def submitted(self) -> int:
        """Jobs submitted since start (from the controller's log)."""
        log = (self.folder / "slurmctld.log").read_text(errors="replace")
        return log.count("_slurm_rpc_submit_batch_job: JobId=")

    def stop(self) -> None:
        for job, _ in self.jobs():
            self.run("scancel", job)
        for name in ("slurmd", "slurmctld", "munged"):
            pid_file = self.folder / f"{name}.pid"
            try:
                pid = int(pid_file.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(50):  # up to 5 s for a clean exit
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
