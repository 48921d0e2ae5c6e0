"""Make docs/explorer.png: the explorer in headless Chromium, driven like a person would.

    .venv/bin/python docs/explorer_png.py [scene] [--tiny]

Opens the explorer on the scene's stored surfaces (computed if missing), captures three
views with the "add keyframe" button from different camera positions, clicks the surface
to release a descent ball, plays a little, and screenshots the page.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "render"))
sys.path.insert(0, str(ROOT))

from headless_chromium import Chromium  # noqa: E402


def click_button(browser: Chromium, label: str) -> None:
    ok = browser.evaluate(
        "(() => { const b = Array.from(document.querySelectorAll('button'))"
        f".find(e => e.innerText.trim().startsWith({label!r})); if (b) b.click(); return !!b; }})()")
    if not ok:
        raise RuntimeError(f"no button {label!r}")


def mouse_click(browser: Chromium, x: int, y: int) -> None:
    browser.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
    for kind in ("mousePressed", "mouseReleased"):
        browser.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


def main() -> None:
    import numpy as np
    from PIL import Image

    from lossfilm.render.explore.app import ExplorerApp
    from lossfilm.render.explore.session import ExploreSession, explore_scene
    from lossfilm.render.pipeline import compute_stage
    from lossfilm.render.scene.scene import load_scene

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    scene_path = Path(args[0] if args else ROOT / "scenes" / "quickstart.yaml")
    scene = explore_scene(load_scene(scene_path), tiny="--tiny" in sys.argv)
    out = ROOT / "outputs" / scene.name
    folder = compute_stage(scene, out)
    session = ExploreSession(scene, folder, scene_path, (), out)
    app = ExplorerApp(session, "127.0.0.1", 8790)
    try:
        with Chromium(size=(1440, 900)) as browser:
            browser.goto(app.url)
            browser.wait_for("document.querySelectorAll('[role=slider]').length >= 2", timeout=60)
            time.sleep(2)
            client = next(iter(app.server.get_clients().values()))
            c = session.surface.topology.bounds.center
            size = session.surface.topology.bounds.size
            for t, offset in ((1.0, (-1.3, -1.0, 0.8)), (5.0, (0.3, -1.5, 0.45)),
                              (9.0, (1.3, -0.3, 0.6))):
                app._time.value = t
                client.camera.position = c + np.asarray(offset) * size
                client.camera.look_at = c
                time.sleep(1.5)
                click_button(browser, "add keyframe")
                time.sleep(1.0)
            print("keys:", [(k.time, k.position) for k in session.keys])
            app._time.value = 4.0
            client.camera.position = c + np.array([-0.75, -1.3, 0.9]) * size
            client.camera.look_at = c + np.array([0.05, 0.0, -0.15]) * size
            time.sleep(4)
            # release a ball on the surface: click a point of the canvas that shows it
            shot = browser.screenshot().astype(int)
            # the surface's viridis pixels (green over red), not the orange keys
            ys, xs = np.nonzero(shot[:, :1000, 1] > shot[:, :1000, 0] + 40)
            aim = (xs.mean() - 0.3 * xs.std(), ys.mean() + 0.5 * ys.std())  # up a slope
            pick = np.argmin((xs - aim[0]) ** 2 + (ys - aim[1]) ** 2)
            mouse_click(browser, int(xs[pick]), int(ys[pick]))
            time.sleep(1.0)
            print("ball:", session.ball_start, session.ball_release)
            time.sleep(6)
            app._playing = False
            client.camera.position = c + np.array([-1.7, -2.9, 2.3]) * size
            client.camera.look_at = c + np.array([0.35, 0.45, -0.25]) * size
            browser.evaluate("document.querySelectorAll('button[aria-label=\"Close\"], "
                             ".mantine-Notification-closeButton').forEach(b => b.click())")
            time.sleep(3)
            img = browser.screenshot()
            Image.fromarray(img).save(ROOT / "docs" / "explorer.png", optimize=True)
            print(ROOT / "docs" / "explorer.png")
    finally:
        app.stop()


if __name__ == "__main__":
    main()
