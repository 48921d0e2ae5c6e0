"""Write docs/films.md: one still per shipped scene, with what each stage cost here.

For every ``scenes/*.yaml`` this computes the surfaces from nothing (full size, as the
scene says; ``--force``, so a cache from an earlier run is not what is timed),
renders the ``--preview`` film, and renders a 640×360 still at the end of the film,
timing each step. ``--full`` also renders the full-size film (minutes per scene at 4K
on a 2-core CPU), records its time and the peak memory of lossfilm and ffmpeg, and
decodes what it wrote (codec, size, frame count, frame rate).

Measurements are kept per scene in ``docs/films.json`` with a hash of the scene file,
so ``--only`` updates those scenes and keeps the others; a scene edited since it was
measured is marked stale on the page until it is measured again.

    python docs/make_films.py [--full] [--only quickstart,flyby] [--stale]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RECORDS = DOCS / "films.json"
OUT = ROOT / "outputs" / "films-doc"
STILL_SIZE = "640x360"
#: film time of the still where the film's end is not its picture (default: the end)
STILL_AT = {"horizon": 4.0}  # the flyby ends low over a plain slope; at 4 s the edge horizon and the ball
#: bumped when the default look changes what every film looks like: a record from an
#: earlier look is stale (its still and its times are of frames lossfilm no longer draws)
#: 1: the first default (filmic, Blinn-Phong); 2: the cinematic default (AgX, AO, plinth);
#: 3: the key light traced through the height field, bounce light;
#: 4: occlusion integrated per slice over the whole landscape, the sky dome's own irradiance,
#: bounce light from each slice's horizon
LOOK_EPOCH = 4

sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))  # after ROOT: benchmarks/render.py is a script
from _machine import cpu_model, load_average, measure

from lossfilm.render.output.probe import probe


def lossfilm(log: Path, *args: str) -> tuple[float, int, str, float]:
    """Run the CLI, its progress going to ``log``; return (wall s, peak tree RSS, stdout,
    mean 1-minute load average sampled every 5 s while it ran)."""
    cmd = [sys.executable, "-m", "lossfilm.render.cli", *args]
    log.parent.mkdir(parents=True, exist_ok=True)
    samples, done = [load_average()], threading.Event()

    def sample():
        while not done.wait(5.0):
            samples.append(load_average())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        with log.open("w") as err:
            wall, peak, rc, stdout = measure(cmd, cwd=ROOT, stderr=err)
    finally:
        done.set()
        sampler.join()
    if rc != 0:
        tail = log.read_text()[-2000:]
        raise SystemExit(f"lossfilm {' '.join(args)} failed (exit {rc}):\n{tail}")
    return wall, peak, stdout, sum(samples) / len(samples)


def scene_hash(scene: Path) -> str:
    return hashlib.sha256(scene.read_bytes()).hexdigest()[:16]


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


def load_records() -> dict:
    return json.loads(RECORDS.read_text()) if RECORDS.exists() else {}


def save_records(records: dict) -> None:
    tmp = RECORDS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")
    tmp.replace(RECORDS)


def measure_scene(scene: Path, full: bool, previous: dict | None) -> dict:
    out = OUT / scene.stem
    # --force: computed from nothing, so the time is the scene's cost, not a cache hit
    t_compute, _, _, load = lossfilm(out / "compute.log", "compute", str(scene), "--out", str(out), "--force")
    t_preview, _, _, _ = lossfilm(out / "preview.log", "run", str(scene), "--preview", "--out", str(out))
    still = DOCS / "films" / f"{scene.stem}.png"
    at = ("--time", str(STILL_AT[scene.stem])) if scene.stem in STILL_AT else ()
    lossfilm(out / "still.log", "still", str(scene), "--out", str(out), "--size", STILL_SIZE,
             *at, "-o", str(still))
    record = {
        "scene_hash": scene_hash(scene),
        "look_epoch": LOOK_EPOCH,
        "still_look_epoch": LOOK_EPOCH,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "load": round(load, 1),
        "compute_s": round(t_compute, 1),
        "preview_s": round(t_preview, 1),
    }
    if not full and previous and previous["scene_hash"] == record["scene_hash"] and "full_s" in previous:
        # the scene is unchanged: its full-size measurement is kept, marked with the look
        # it was rendered in (the page says when that is an earlier one)
        record |= {k: v for k, v in previous.items() if k.startswith(("full_", "film"))}
        record["full_look_epoch"] = previous.get("full_look_epoch", previous.get("look_epoch", 1))
    if full:
        # segments a killed earlier run left would be resumed, not rendered: not a measurement
        shutil.rmtree(out / ".chunks", ignore_errors=True)
        t_full, peak, stdout, load = lossfilm(out / "full.log", "run", str(scene), "--out", str(out))
        film = Path(stdout.strip().splitlines()[-1])
        info = probe(film)
        record |= {
            "full_s": round(t_full, 1),
            "full_look_epoch": LOOK_EPOCH,
            "full_date": record["date"],
            "full_load": round(load, 1),
            "full_peak_gib": round(peak / 2**30, 2),
            "film": {"codec": info.codec, "width": info.width, "height": info.height,
                     "frames": info.frames, "fps": str(info.fps)},
        }
    return record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also render the full-size films")
    ap.add_argument("--only", default="", help="comma-separated scene names")
    ap.add_argument("--stale", action="store_true",
                    help="only scenes with no record, a stale one, or (with --full) no full-size time")
    ap.add_argument("--page", action="store_true", help="rewrite the page from the records only")
    ap.add_argument("--stills", action="store_true",
                    help="only render the stills again (after a look change), keeping the times")
    args = ap.parse_args()
    scenes = sorted((ROOT / "scenes").glob("*.yaml"))
    records = load_records()
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {s.stem for s in scenes}
        if unknown:
            ap.error(f"no such scenes: {', '.join(sorted(unknown))}")
        scenes = [s for s in scenes if s.stem in wanted]
    if args.stale:
        scenes = [s for s in scenes if needs_measuring(records.get(s.stem), s, args.full)]
    (DOCS / "films").mkdir(parents=True, exist_ok=True)
    if args.stills:
        for i, scene in enumerate(scenes, 1):
            print(f"[{i}/{len(scenes)}] {scene.stem}: still ...", file=sys.stderr, flush=True)
            render_still(scene, records)
            save_records(records)
    elif not args.page:
        for i, scene in enumerate(scenes, 1):
            started = time.perf_counter()
            print(f"[{i}/{len(scenes)}] {scene.stem} ...", file=sys.stderr, flush=True)
            records[scene.stem] = measure_scene(scene, args.full, records.get(scene.stem))
            save_records(records)  # after every scene: a long --full run is useful if cut short
            write_markdown(records)
            r = records[scene.stem]
            print(f"{scene.stem}: compute {r['compute_s']:.0f} s, preview {r['preview_s']:.0f} s"
                  + (f", full {r['full_s']:.0f} s, peak {r['full_peak_gib']} GiB" if "full_s" in r else "")
                  + f" ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    write_markdown(records)
    print(RECORDS)
    print(DOCS / "films.md")


def stale_reason(record: dict, scene: Path) -> str:
    """Why ``record`` no longer describes what ``scene`` renders to ('' when it does).

    Times measured in an earlier default look still describe the scene's cost (the page
    marks them); a still from an earlier look does not show what the scene renders to.
    """
    if record["scene_hash"] != scene_hash(scene):
        return "scene changed since"
    if record.get("still_look_epoch", record.get("look_epoch", 1)) != LOOK_EPOCH:
        return "still from an earlier default look"
    return ""


def needs_measuring(record: dict | None, scene: Path, full: bool) -> bool:
    return (record is None or bool(stale_reason(record, scene))
            or (full and record.get("full_look_epoch", record.get("look_epoch", 1)) != LOOK_EPOCH)
            or (full and "full_s" not in record))


def render_still(scene: Path, records: dict) -> None:
    """``--stills``: the scene's still in the current look, its times kept (surfaces computed
    first where missing, untimed)."""
    out = OUT / scene.stem
    at = ("--time", str(STILL_AT[scene.stem])) if scene.stem in STILL_AT else ()
    lossfilm(out / "still.log", "still", str(scene), "--out", str(out), "--size", STILL_SIZE,
             *at, "-o", str(DOCS / "films" / f"{scene.stem}.png"))
    if scene.stem in records:
        records[scene.stem]["still_look_epoch"] = LOOK_EPOCH


def _film_cell(r: dict) -> str:
    f = r.get("film")
    if not f:
        return "—"
    seconds = f["frames"] / float(Fraction(f["fps"]))  # "30" or "30000/1001"
    return f"{f['codec']} {f['width']}×{f['height']}, {f['frames']} frames, {seconds:.1f} s"


def write_markdown(records: dict) -> None:
    scenes = sorted((ROOT / "scenes").glob("*.yaml"))
    lines = [
        "# The film library",
        "",
        ("<!-- Written by `python docs/make_films.py` from docs/films.json; rerun it after"
         " changing a scene (`--full --stale` measures what is missing or stale). -->"),
        "",
        "Measured on a 2-core CPU machine without a GPU, Mesa llvmpipe for OpenGL; the date",
        "and the mean 1-minute load average while the compute ran (and, where it was measured",
        "apart, the full-size film's) are in the last column: absolute times on a shared machine",
        "drift with load. Records from before 2026-12-02 03:30 UTC give the load at the start of",
        "the measurement instead. A time marked *(earlier look)* was rendered in the default look",
        "before the cinematic one (`benchmarks/look.py` measures the cinematic 4K frame at",
        "1.2–1.6× its time); every still is of the current look unless marked stale.",
        "*compute*: training and every surface at the scene's own grid (cached afterwards:",
        "changing the camera, the look or the output never recomputes);",
        "*preview*: `lossfilm run --preview` (640×360, 15 fps, no MSAA) with surfaces cached;",
        "*full size*: `lossfilm run` at the scene's own size (3840×2160, 30 fps, 4× MSAA,",
        "H.264), surfaces cached, with the peak resident memory of lossfilm and ffmpeg together",
        "and what a decoder reports of the film written. The quickstart film from an empty",
        "folder is measured in `benchmarks/RESULTS.md` (workload 3).",
        "",
        "| scene | compute | preview | full size | peak memory | film (decoded) | measured (load) |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for scene in scenes:
        r = records.get(scene.stem)
        name = scene.stem
        if r is None:
            lines.append(f"| [`{name}`](#{name}) | — | — | — | — | — | not measured |")
            continue
        reason = stale_reason(r, scene)
        stale = f" **stale: {reason}**" if reason else ""
        full = f"{r['full_s']:.0f} s" if "full_s" in r else "—"
        if "full_s" in r and r.get("full_look_epoch", r.get("look_epoch", 1)) != LOOK_EPOCH:
            full += " (earlier look)"
        peak = f"{r['full_peak_gib']:.2f} GiB" if "full_peak_gib" in r else "—"
        when = r["date"] + (f" ({r['load']:.1f})" if r.get("load") is not None else "")
        if "full_date" in r and (r["full_date"], r.get("full_load")) != (r["date"], r.get("load")):
            when += f"; full {r['full_date']}" + (f" ({r['full_load']:.1f})" if r.get("full_load") is not None else "")
        preview = f"{r['preview_s']:.0f} s"
        if r.get("look_epoch", 1) != LOOK_EPOCH:
            preview += " (earlier look)"
        lines.append(f"| [`{name}`](#{name}) | {r['compute_s']:.0f} s | {preview} |"
                     f" {full} | {peak} | {_film_cell(r)} | {when}{stale} |")
    for scene in scenes:
        name = scene.stem
        lines += ["", f"## {name}", "", header(scene)]
        if (DOCS / "films" / f"{name}.png").exists():
            lines += ["", f"![{name}](films/{name}.png)"]
    (DOCS / "films.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
