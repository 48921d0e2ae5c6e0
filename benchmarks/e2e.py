"""Workload 3: ``lossfilm run`` end to end, wall time and peak memory of the process tree.

Runs the real command line in a child process and samples the resident memory of it
*and every descendant* (the ffmpeg encoder, pool workers) every ``_machine.SAMPLE_S`` seconds
from ``/proc`` (psutil is used when installed). Peak = the largest sum seen.

Variants (``--variants``, comma separated, run in this order):

- ``preview``: ``run --preview`` from an empty folder (640×360, 15 fps, no MSAA);
- ``cold``: ``run`` from an empty folder: compute, mesh, render and encode the 4K film;
- ``cached``: ``run`` again in the same folder with a camera change (``--set``), so the
  surfaces are reused and only the film is drawn and encoded;
- ``still``: an 8192×4608 still of the cached scene (``lossfilm still --size``).

Usage: ``python benchmarks/e2e.py [--scene scenes/quickstart.yaml] [--variants preview,cold,cached]``.
Prints a table and appends one row per run to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from _machine import cpu_model, measure  # noqa: E402 - benchmarks run as scripts

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
#: a 4K film must stay under this (issue 7)
PEAK_LIMIT_GIB = 2.0
#: the camera change that makes the "cached" run redraw the film but not the surfaces
CAMERA_CHANGE = "camera.shots[0].orbit.turns=0.55"
STILL_SIZE = "8192x4608"


def record(scene: str, variant: str, wall: float, peak: int, rc: int, load: float) -> str:
    """Append one dated row to RESULTS.md and return it."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    what = {"preview": "run --preview, empty folder", "cold": "run, empty folder (4K)",
            "cached": "run, cached surfaces, camera changed (4K)",
            "still": f"still {STILL_SIZE}, cached surfaces"}[variant]
    flag = "" if rc == 0 else f" FAILED rc {rc}"
    limit = (f" ({'under' if peak < PEAK_LIMIT_GIB * 2**30 else 'OVER'} {PEAK_LIMIT_GIB:g} GiB)"
             if variant in ("cold", "cached") else "")
    row = (f"- {stamp} | e2e | {cpu_model()}, {os.cpu_count()} cores | workload 3, {Path(scene).name},"
           f" peak RSS of lossfilm + ffmpeg + workers | {what}: {wall:.1f} s,"
           f" peak {peak / 2**30:.2f} GiB{limit}{flag} | load {load:.1f}")
    with RESULTS.open("a") as fh:
        fh.write(row + "\n")
    print(row, flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scene", default="scenes/quickstart.yaml")
    ap.add_argument("--variants", default="preview,cold,cached")
    ap.add_argument("--out", default=None, help="work folder (default: a temporary one, removed)")
    ap.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = ap.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - {"preview", "cold", "cached", "still"}
    if unknown:
        ap.error(f"unknown variants: {sorted(unknown)}")
    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="lossfilm-e2e-"))
    lossfilm = [sys.executable, "-m", "lossfilm.render.cli"]
    film_out = work / "film"
    rows = []
    try:
        for v in variants:
            if v == "preview":
                folder = work / "preview"
                shutil.rmtree(folder, ignore_errors=True)
                cmd = [*lossfilm, "run", args.scene, "--preview", "--out", str(folder)]
            elif v == "cold":
                shutil.rmtree(film_out, ignore_errors=True)
                cmd = [*lossfilm, "run", args.scene, "--out", str(film_out)]
            elif v == "cached":
                cmd = [*lossfilm, "run", args.scene, "--out", str(film_out), "--set", CAMERA_CHANGE]
            else:
                cmd = [*lossfilm, "still", args.scene, "--out", str(film_out), "--size", STILL_SIZE,
                       "-o", str(work / "still.png")]
            load = os.getloadavg()[0]
            wall, peak, rc, _ = measure(cmd, cwd=ROOT)
            rows.append((v, wall, peak, rc, load))
            print(f"{v:8s} {wall:8.1f} s  peak {peak / 2**30:6.2f} GiB  rc {rc}  load {load:.1f}",
                  flush=True)
            if not args.no_record:  # one row per run, so a long session keeps what finished
                record(args.scene, v, wall, peak, rc, load)
    finally:
        if not args.out:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r[3] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
