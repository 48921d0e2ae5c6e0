"""The explorer in a real headless Chromium: the page loads, the 3-D canvas is drawn, and
moving the time slider in the page changes the drawn surface.

WebGL runs on SwiftShader (no GPU here). The slider is moved the way a person at a
keyboard would: focus its thumb and press End (the film's last frame).
"""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import pytest

from headless_chromium import Chromium, chromium_path

# whole films, wheels, clusters or browsers: the full suite (make test), not the fast lane
pytestmark = pytest.mark.slow

pytest.importorskip("viser")
if chromium_path() is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must install chromium (.ci/run does: apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

#: the page's width; the GUI panel takes the right ~400 px, the canvas shows left of it.
WINDOW = (960, 600)
CANVAS_RIGHT = 540
#: the first draw of the surface compiles its shader, which takes seconds in SwiftShader.
DRAW_TIMEOUT_S = 90.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _canvas(img: np.ndarray) -> np.ndarray:
    return img[40:-40, :CANVAS_RIGHT].astype(np.int16)


def _drawn_fraction(img: np.ndarray) -> float:
    """Fraction of the canvas not in the background colour (its most common pixel)."""
    c = _canvas(img).reshape(-1, 3)
    values, counts = np.unique(c, axis=0, return_counts=True)
    background = values[np.argmax(counts)]
    return float((np.abs(c - background).sum(axis=1) > 24).mean())


def _settled(browser: Chromium, previous: np.ndarray | None = None) -> np.ndarray:
    """Screenshots until two in a row agree (the GLB is loaded and drawn), and differ from
    ``previous`` when given."""
    deadline = time.monotonic() + DRAW_TIMEOUT_S
    last = browser.screenshot()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        img = browser.screenshot()
        same = np.abs(_canvas(img) - _canvas(last)).max() <= 8
        changed = previous is None or _changed_fraction(img, previous) > 0.02
        if same and changed and _drawn_fraction(img) > 0.05:
            return img
        last = img
    return last


def _changed_fraction(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.abs(_canvas(a) - _canvas(b)).sum(axis=2) > 30).mean())


def test_page_draws_the_surface_and_the_slider_changes_it(explored):
    from lossfilm.render.explore.app import ExplorerApp
    from lossfilm.render.explore.session import ExploreSession

    scene_path, scene, folder, out = explored
    session = ExploreSession(scene, folder, scene_path, (), out)
    app = ExplorerApp(session, "127.0.0.1", _free_port())
    try:
        with Chromium(size=WINDOW) as browser:
            browser.goto(app.url)
            browser.wait_for("document.querySelectorAll('[role=slider]').length >= 2", timeout=30)
            before = _settled(browser)
            text = browser.evaluate("document.body.innerText")
            assert "t = 0.00 / 10.00 s" in text and "epoch" in text
            assert _drawn_fraction(before) > 0.05, "the 3-D canvas is blank"
            # a surface in the scene's colormap: many distinct colours, not a flat fill
            assert len(np.unique(_canvas(before).reshape(-1, 3), axis=0)) > 200

            draws = app.draws
            browser.evaluate("document.querySelectorAll('[role=slider]')[0].focus()")
            browser.key("End", 35)
            deadline = time.monotonic() + 20
            while app.draws == draws and time.monotonic() < deadline:
                time.sleep(0.1)
            assert app.time == pytest.approx(session.frame_time(session.duration))
            browser.evaluate("document.activeElement.blur()")
            after = _settled(browser, previous=before)
            assert _changed_fraction(before, after) > 0.02, "the drawn surface did not change"
            # the trained landscape's basin is dark in viridis: the canvas got darker
            assert _canvas(after).mean() < _canvas(before).mean() - 5
            browser.wait_for("document.body.innerText.includes('t = 9.97 / 10.00 s')", timeout=10)

            # "look through the film camera": the page's own camera moves to the film's
            # viser's own settings have checkboxes too; the GUI's carry their handle's id
            box = app._look_through._impl.uuid
            browser.evaluate(f"document.getElementById('{box}').click()")
            pose = session.film_pose(app.time)
            client = next(iter(app.server.get_clients().values()))
            deadline = time.monotonic() + 20
            size = session.surface.topology.bounds.size
            # the page reports its camera back; it may pass through in-between states
            while time.monotonic() < deadline and not (
                    np.allclose(client.camera.position, pose.eye, atol=1e-3 * size)
                    and np.allclose(client.camera.look_at, pose.target, atol=1e-3 * size)):
                time.sleep(0.1)
            np.testing.assert_allclose(client.camera.position, pose.eye, atol=1e-3 * size)
            np.testing.assert_allclose(client.camera.look_at, pose.target, atol=1e-3 * size)
            looked = _settled(browser, previous=after)
            assert _changed_fraction(after, looked) > 0.02, "the view did not move to the film camera"
    finally:
        app.stop()
