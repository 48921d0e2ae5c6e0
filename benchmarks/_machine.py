"""What every benchmark records about the machine it ran on, and how it records it."""

from __future__ import annotations

import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


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


def append_result(line: str) -> Path:
    """Append one dated row (already formatted) to ``benchmarks/RESULTS.md``."""
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\n")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")
    return RESULTS
