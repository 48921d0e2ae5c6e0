"""Write docs/films.md: one still per shipped scene, with what each stage cost here.

For every ``scenes/*.yaml`` this computes the surfaces (full size, as the scene says),
renders the ``--preview`` film, and renders a 640×360 still at the end of the film,
timing each step. ``--full`` also renders the full-size film (minutes per scene at 4K
on a 2-core CPU) and records its time.

    python docs/make_films.py [--full] [--only quickstart,flyby]
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
OUT = ROOT / "outputs" / "films-doc"
STILL_SIZE = "640x360"


def lossfilm(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "render.cli", *args], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"lossfilm {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return time.perf_counter() - started, result


def header(scene: Path) -> str:
    """The first paragraph of the scene's comment header."""
    lines = []
    for line in scene.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if not text and lines:
            break
        if text:
            lines.append(text)
    return " ".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also render the full-size films")
    ap.add_argument("--only", default="", help="comma-separated scene names")
    args = ap.parse_args()
    scenes = sorted((ROOT / "scenes").glob("*.yaml"))
    if args.only:
        scenes = [s for s in scenes if s.stem in args.only.split(",")]
    (DOCS / "films").mkdir(parents=True, exist_ok=True)
    rows = []
    for scene in scenes:
        out = OUT / scene.stem
        t_compute, _ = lossfilm("compute", str(scene), "--out", str(out))
        t_preview, _ = lossfilm("run", str(scene), "--preview", "--out", str(out))
        still = DOCS / "films" / f"{scene.stem}.png"
        t_still, _ = lossfilm("still", str(scene), "--out", str(out), "--size", STILL_SIZE, "-o", str(still))
        t_full = None
        if args.full:
            t_full, _ = lossfilm("run", str(scene), "--out", str(out))
        rows.append((scene.stem, header(scene), t_compute, t_preview, t_still, t_full))
        print(f"{scene.stem}: compute {t_compute:.0f} s, preview {t_preview:.0f} s, still {t_still:.0f} s"
              + (f", full {t_full:.0f} s" if t_full else ""), flush=True)
        write_markdown(rows)  # after every scene: a long --full run is useful even if cut short


def write_markdown(rows) -> None:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    lines = [
        "# The film library",
        "",
        "<!-- Written by `python docs/make_films.py`; rerun it after changing a scene. -->",
        "",
        f"Measured {stamp} on a 2-core CPU machine without a GPU ({os.cpu_count()} cores seen),",
        "Mesa llvmpipe for OpenGL. *compute*: training and every surface at the scene's own",
        "grid (cached afterwards: changing the camera, the look or the output never recomputes);",
        "*preview*: `lossfilm run --preview` (640×360, 15 fps, no MSAA) with surfaces cached.",
        "*full size*: `lossfilm run` at the scene's own size (3840×2160, 30 fps, 4× MSAA),",
        "surfaces cached; '—' where it was not rendered for this page. The quickstart film",
        "from an empty folder is measured in `benchmarks/RESULTS.md` (workload 3).",
        "",
        "| scene | compute | preview | full size |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, _, tc, tp, _, tf in rows:
        full = f"{tf:.0f} s" if tf else "—"
        lines.append(f"| [`{name}`](#{name}) | {tc:.0f} s | {tp:.0f} s | {full} |")
    for name, text, *_ in rows:
        lines += ["", f"## {name}", "", text, "", f"![{name}](films/{name}.png)"]
    (DOCS / "films.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {DOCS / 'films.md'}")


if __name__ == "__main__":
    main()
