"""What every benchmark records about the machine it ran on, and how it records it."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
#: memory sampling period (s): short enough to catch an encoder's peak
SAMPLE_S = 0.1
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def load_average() -> float:
    """The 1-minute load average: ratios hold under load, absolute times do not."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _children_proc(pid: int) -> list[int]:
    """All descendants of ``pid`` from /proc (task children lists)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = (task / "children").read_text().split()
                out.extend(int(k) for k in kids)
                todo.extend(int(k) for k in kids)
        except OSError:
            continue
    return out


def _rss_proc(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants now."""
    try:
        import psutil
    except ImportError:
        return sum(_rss_proc(p) for p in [pid, *_children_proc(pid)])
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(cmd: list[str], cwd: Path, stderr=subprocess.DEVNULL) -> tuple[float, int, int, str]:
    """Run ``cmd`` in ``cwd``, sampling the resident memory of its process tree.

    Returns (wall seconds, peak tree RSS bytes, exit code, stdout). ``stderr`` goes
    where :class:`subprocess.Popen` is told (discarded by default). The command's
    stdout must stay small (lossfilm prints only the paths it wrote there).
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(SAMPLE_S)
    wall = time.perf_counter() - started
    return wall, peak, proc.returncode, proc.stdout.read()


def append_result(line: str) -> Path:
    """Append one dated row (already formatted) to ``benchmarks/RESULTS.md``."""
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\n")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")
    return RESULTS
