"""Workload 7, start-up: cold ``lossfilm validate scenes/quickstart.yaml`` next to
``python -c "import torch"``, alternating in one run, medians and the ratio.

Each run is a fresh process (``python -m lossfilm.render.cli``, the same interpreter and
environment as the ``lossfilm`` script), so module imports are paid every time; the
operating system's file cache is warm after the first pair, as it is for a user who types
the command twice.

    python benchmarks/startup.py [--repeats 9] [--no-record]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import append_result, cpu_model, load_average  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENE = ROOT / "scenes" / "quickstart.yaml"
#: the issue's bar for a cold validate on the 2-core reference machine (s, median)
VALIDATE_BUDGET_S = 0.5

COMMANDS = {
    "validate": [sys.executable, "-m", "lossfilm.render.cli", "validate", str(SCENE)],
    "import torch": [sys.executable, "-c", "import torch"],
    "python": [sys.executable, "-c", "pass"],
}


def wall(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    for cmd in COMMANDS.values():  # warm-up: file cache, byte-compiled modules
        wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeats):
        for name, cmd in COMMANDS.items():
            times[name].append(wall(cmd))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    ratio = med["import torch"] / med["validate"]
    verdict = "meets" if med["validate"] <= VALIDATE_BUDGET_S else "OVER"
    print(f"{'command':<14} {'median s':>9} {'min':>7} {'max':>7}")
    for name, ts in times.items():
        print(f"{name:<14} {med[name]:9.3f} {min(ts):7.3f} {max(ts):7.3f}")
    print(f"validate is {ratio:.1f}x faster than importing torch; "
          f"{verdict} the {VALIDATE_BUDGET_S} s budget")
    if not args.no_record:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        line = (f"- {stamp} | startup | {cpu_model()}, 2 cores | workload 7, cold processes, median of"
                f" {args.repeats}: lossfilm validate quickstart {med['validate']:.3f} s,"
                f" python -c 'import torch' {med['import torch']:.3f} s, bare python"
                f" {med['python']:.3f} s; validate {ratio:.1f}x faster than importing torch"
                f" ({verdict} the {VALIDATE_BUDGET_S} s budget) | load {load_average():.1f}")
        print("appended to", append_result(line))


if __name__ == "__main__":
    main()
