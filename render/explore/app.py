"""``lossfilm explore``: the scene's stored surfaces in the browser, served on loopback.

Built on viser (PyPI), a Python-driven three.js viewer whose web client ships prebuilt
inside the wheel: nothing is fetched at run time, no JavaScript is built here, and the
whole GUI (sliders, buttons, click rays, the viewer's own camera) is Python, next to the
mesh stage it shows. The session's state and everything it writes live in
:mod:`render.explore_session`; this module only wires it to the browser.

What the page offers:

- the film's surface at the slider's film time (the scene's colormap and height
  transform), play/pause, the counter and the loss of the current frame;
- free navigation; "add keyframe" captures the view at the current time; keys are listed,
  retimed, deleted; "save scene" writes a new scene file with a ``keyframes`` camera;
- the film's camera path as a curve with its keys, and "look through the film camera";
- a click on the surface releases a descent ball (the film's descent actor) with a live
  rate slider; "add ball to film" writes it as ``mesh.descent``;
- "render still": the current view by the offline renderer into the output folder.
"""

from __future__ import annotations

import socket
import threading
import time as _time
from collections import OrderedDict

import numpy as np

from lossfilm.render.explore.session import DEFAULT_RATE, ExploreSession, ray_hit

__all__ = ["ExplorerApp", "PortBusy", "check_port_free", "serve"]

#: film frames kept as encoded meshes (about 1 MB each at 128²), so scrubbing back is instant.
MESH_CACHE_FRAMES = 48
#: playback updates per second of wall time (film time runs at its own speed).
PLAYBACK_RATE = 12.0
STILL_SIZES = ("640x360", "1280x720", "1920x1080", "3840x2160")
KEY_COLOR, PATH_COLOR, FILM_CAMERA_COLOR = (255, 120, 20), (60, 60, 70), (30, 140, 255)
BALL_COLOR = (255, 210, 63)
#: the browser's first view: the film's first view pulled back by this factor.
START_PULL_BACK = 1.6


class PortBusy(Exception):
    """The port is taken (another explore, or another server)."""


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`PortBusy` if ``host:port`` cannot be bound.

    viser would quietly move on to the next port; a second explorer must instead say that
    the port is busy, so this binds (and releases) it first.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        # as servers do: connections of a previous run waiting out TIME_WAIT do not count,
        # a listening socket does
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise PortBusy(f"port {port} on {host} is busy ({exc.strerror}); another"
                           f" `lossfilm explore` may be running: open it, or pass --port") from None


def _import_viser():
    try:
        import viser
    except ImportError:
        raise ImportError("lossfilm explore needs viser: pip install 'lossfilm[explore]'") from None
    return viser


def camera_wxyz(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """(4,) quaternion of a camera at ``eye`` looking at ``target`` (OpenCV axes, as viser's)."""
    from viser import transforms

    f = np.asarray(target, float) - np.asarray(eye, float)
    f /= max(np.linalg.norm(f), 1e-12)
    r = np.cross(f, np.asarray(up, float))
    if np.linalg.norm(r) < 1e-9:  # looking straight along up: any sideways axis will do
        r = np.cross(f, [1.0, 0.0, 0.0])
    r /= np.linalg.norm(r)
    down = np.cross(f, r)
    return transforms.SO3.from_matrix(np.column_stack([r, down, f])).wxyz


def mesh_glb(vertices, faces, colors, normals) -> bytes:
    """A GLB of the surface; colours go to linear, as glTF vertex colours are."""
    import trimesh

    from lossfilm.render.color.colormaps import srgb_to_linear

    linear = np.rint(srgb_to_linear(colors / 255.0) * 255.0).astype(np.uint8)
    rgba = np.column_stack([linear, np.full(len(linear), 255, np.uint8)])
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, vertex_normals=normals,
                           vertex_colors=rgba, process=False)
    return mesh.export(file_type="glb")


class ExplorerApp:
    """The viser server and GUI around an :class:`ExploreSession`."""

    def __init__(self, session: ExploreSession, host: str = "127.0.0.1", port: int = 8080) -> None:
        viser = _import_viser()
        check_port_free(host, port)
        self.session = session
        import rich

        rich.reconfigure(stderr=True)  # viser's banners: stdout is for the paths written
        self.server = viser.ViserServer(host=host, port=port, verbose=False,
                                        label=f"lossfilm explore: {session.scene.name}")
        if self.server.get_port() != port:  # lost a race for the port to another server
            self.server.stop()
            raise PortBusy(f"port {port} on {host} is busy; pass --port")
        self.host, self.port = host, port
        self._lock = threading.RLock()
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._playing = False
        self._stop = threading.Event()
        self.time = 0.0
        self.draws = 0  # surfaces sent, for tests and the status line
        self._surfaces: list = []  # the shown surface node last, the one before it hidden
        self._build_scene()
        self._build_gui()
        self.set_time(0.0)
        self._player = threading.Thread(target=self._play_loop, name="explore-play", daemon=True)
        self._player.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    # ------------------------------------------------------------------ scene

    def _build_scene(self) -> None:
        s, scene = self.session, self.server.scene
        scene.set_up_direction("+z")
        pose = s.film_pose(0.0)
        cam = self.server.initial_camera
        # a step behind the film's first view, so the film camera is in the picture
        eye = np.asarray(pose.target) + START_PULL_BACK * (np.asarray(pose.eye) - pose.target)
        cam.position, cam.look_at, cam.fov = eye, pose.target, np.radians(pose.fov_deg)
        size = s.surface.topology.bounds.size
        self._ball_radius = 0.012 * size
        self._film_path = scene.add_spline_catmull_rom(
            "/film/path", points=s.film_path_points(), color=PATH_COLOR, thickness=2.0,
            thickness_units="screen")
        self._film_cam = scene.add_camera_frustum("/film/camera", fov=np.radians(pose.fov_deg),
                                                  aspect=16 / 9, scale=0.1 * size,
                                                  color=FILM_CAMERA_COLOR)
        self._minimizer = scene.add_icosphere("/minimizer", radius=self._ball_radius,
                                              color=(220, 40, 40), visible=False)
        self._ball = scene.add_icosphere("/descent/ball", radius=self._ball_radius * 1.2,
                                         color=BALL_COLOR, visible=False)

    def _key_nodes(self) -> None:
        """Redraw the captured keys as frustums (orange) and list them in the panel."""
        s, scene = self.session, self.server.scene
        scene.remove_by_name("/keys")
        for i, k in enumerate(s.keys):
            scene.add_camera_frustum(f"/keys/{i}", fov=np.radians(k.fov), aspect=16 / 9,
                                     scale=0.08 * s.surface.topology.bounds.size, color=KEY_COLOR,
                                     wxyz=camera_wxyz(k.position, k.target), position=k.position)
        rows = [f"{i}. t={k.time:.2f} s, eye ({', '.join(f'{v:.2f}' for v in k.position)})"
                for i, k in enumerate(s.keys)]
        self._key_list.content = "\n".join(f"- {r}" for r in rows) if rows else "_no keys yet_"
        if len(s.keys) > 1:
            pts = np.array([k.position for k in s.keys])
            scene.add_spline_catmull_rom("/keys/path", points=pts, color=KEY_COLOR,
                                         thickness=3.0, thickness_units="screen")

    def _surface_bytes(self, index: int) -> bytes:
        glb = self._cache.get(index)
        if glb is None:
            v, f, c, n = self.session.mesh_at(index / self.session.fps)
            glb = mesh_glb(v, f, c, n)
            self._cache[index] = glb
            while len(self._cache) > MESH_CACHE_FRAMES:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(index)
        return glb

    def _show_surface(self, glb: bytes) -> None:
        """Swap in a new surface, keeping the previous one (hidden) for one more update.

        A removed mesh releases its material, and with it the compiled shader when no
        other mesh uses it; the next surface would then compile it again (seconds in a
        software WebGL). The hidden previous surface keeps the shader alive.
        """
        name = f"/surface/{self.draws % 3}"
        node = self.server.scene.add_glb(name, glb, cast_shadow=False, receive_shadow=False)
        node.on_click(self._on_surface_click)
        if self._surfaces:
            self._surfaces[-1].visible = False
        self._surfaces.append(node)
        if len(self._surfaces) > 2:
            self._surfaces.pop(0).remove()
        self.draws += 1

    def set_time(self, t: float) -> None:
        """Show film time ``t``: surface, balls, film camera, counter (and the view, if tied)."""
        s = self.session
        with self._lock:
            t = s.frame_time(t)
            self.time = t
            index = round(t * s.fps)
            self._show_surface(self._surface_bytes(index))
            info = s.readout_at(t)
            counter = s.scene.render.overlays.counter if hasattr(s.scene.render, "overlays") else "epoch"
            value = info.get(counter, info["position"])
            self._readout.content = (f"**{counter} {value:.3g}** ({info['label']}) &nbsp; "
                                     f"loss {info['loss']:.4g} &nbsp; t = {t:.2f} / {s.duration:.2f} s")
            frame_ball = s.surface.landmarks_at(t)["ball"]
            self._minimizer.visible = frame_ball is not None
            if frame_ball is not None:
                self._minimizer.position = tuple(map(float, frame_ball))
            ball = s.ball_at(t)
            self._ball.visible = ball is not None
            if ball is not None:
                self._ball.position = tuple(map(float, ball))
            pose = s.film_pose(t)
            self._film_cam.position = pose.eye
            self._film_cam.wxyz = camera_wxyz(pose.eye, pose.target, pose.up)
            if self._look_through.value:
                for client in self.server.get_clients().values():
                    self._apply_pose(client, pose)

    @staticmethod
    def _apply_pose(client, pose) -> None:
        with client.atomic():
            client.camera.up_direction = pose.up
            client.camera.fov = float(np.radians(pose.fov_deg))
            client.camera.position = pose.eye
            client.camera.look_at = pose.target

    # ------------------------------------------------------------------ GUI

    def _build_gui(self) -> None:
        gui, s = self.server.gui, self.session
        gui.configure_theme(control_width="large") if hasattr(gui, "configure_theme") else None
        with gui.add_folder("Film"):
            self._readout = gui.add_markdown("")
            self._time = gui.add_slider("time (s)", min=0.0, max=max(s.duration, 1e-3),
                                        step=1.0 / s.fps, initial_value=0.0)
            self._play = gui.add_button("play / pause")
            self._look_through = gui.add_checkbox("look through the film camera", False)
            self._show_path = gui.add_checkbox("show the film's camera path", True)
        with gui.add_folder("Keyframes"):
            self._add_key = gui.add_button("add keyframe (current view)")
            self._key_list = gui.add_markdown("_no keys yet_")
            self._key_index = gui.add_number("key #", initial_value=0, min=0, step=1)
            self._key_time = gui.add_number("new time (s)", initial_value=0.0, min=0.0,
                                            max=s.duration, step=0.01)
            self._retime = gui.add_button("retime key")
            self._delete = gui.add_button("delete key")
            self._save = gui.add_button("save scene with these keys")
        with gui.add_folder("Descent ball"):
            gui.add_markdown("Click on the surface to release a ball at the current time.")
            self._rate = gui.add_slider("descent rate", min=0.0, max=5.0, step=0.005,
                                        initial_value=DEFAULT_RATE)
            self._add_ball = gui.add_button("add ball to film")
        with gui.add_folder("Still"):
            self._still_size = gui.add_dropdown("size", STILL_SIZES, initial_value=STILL_SIZES[2])
            self._still = gui.add_button("render still")
        self._message = gui.add_markdown("")

        self._time.on_update(lambda _: self.set_time(self._time.value))
        self._play.on_click(lambda _: self._toggle_play())
        self._look_through.on_update(lambda _: self.set_time(self.time))
        self._show_path.on_update(self._on_show_path)
        self._add_key.on_click(self._on_add_key)
        self._retime.on_click(lambda _: self._guarded(self._on_retime))
        self._delete.on_click(lambda _: self._guarded(self._on_delete))
        self._save.on_click(lambda _: self._guarded(lambda: self._say_path(s.save(camera=True))))
        self._rate.on_update(self._on_rate)
        self._add_ball.on_click(lambda _: self._guarded(
            lambda: self._say_path(s.save(camera=bool(s.keys), descent=True))))
        self._still.on_click(self._on_still)

    def _say(self, text: str) -> None:
        self._message.content = text

    def _say_path(self, path) -> None:
        self._say(f"written: `{path}`")
        print(path, flush=True)

    def _guarded(self, action) -> None:
        try:
            with self._lock:
                action()
        except ValueError as exc:
            self._say(f"**{exc}**")

    def _toggle_play(self) -> None:
        if not self._playing and self.time >= self.session.duration - 0.5 / self.session.fps:
            self._time.value = 0.0  # play from the start again
        self._playing = not self._playing

    def _play_loop(self) -> None:
        last = _time.perf_counter()
        while not self._stop.wait(1.0 / PLAYBACK_RATE):
            now = _time.perf_counter()
            if self._playing:
                t = min(self.time + (now - last), self.session.duration)
                self._time.value = self.session.frame_time(t)
                if t >= self.session.duration:
                    self._playing = False
            last = now

    def _on_show_path(self, _) -> None:
        self._film_path.visible = self._show_path.value
        self._film_cam.visible = self._show_path.value

    def _on_add_key(self, event) -> None:
        client = event.client
        if client is None:
            return
        cam = client.camera
        with self._lock:
            try:
                i = self.session.add_keyframe(self.time, cam.position, cam.look_at, np.degrees(cam.fov))
            except ValueError as exc:
                self._say(f"**{exc}**")
                return
            self._key_nodes()
            self._say(f"key {i} captured at t = {self.time:.2f} s")

    def _on_retime(self) -> None:
        i = self.session.retime_keyframe(int(self._key_index.value), float(self._key_time.value))
        self._key_nodes()
        self._say(f"key moved to t = {self.session.keys[i].time:.2f} s (now key {i})")

    def _on_delete(self) -> None:
        self.session.delete_keyframe(int(self._key_index.value))
        self._key_nodes()
        self._say("key deleted")

    def _on_surface_click(self, event) -> None:
        origin, direction = getattr(event, "ray_origin", None), getattr(event, "ray_direction", None)
        if origin is None or direction is None:
            return
        with self._lock:
            hit = ray_hit(self.session.surface, self.time, origin, direction)
            if hit is None:
                return
            self.session.release_ball(hit[0], hit[1], self.time, float(self._rate.value))
            self._say(f"ball released at a = {hit[0]:.3f}, b = {hit[1]:.3f}, t = {self.time:.2f} s")
        self._playing = True

    def _on_rate(self, _) -> None:
        with self._lock:
            self.session.set_rate(self.time, float(self._rate.value))

    def _on_still(self, event) -> None:
        client = event.client
        if client is None:
            return
        from lossfilm.render.explore.still import still_pose

        w, h = (int(v) for v in self._still_size.value.split("x"))
        cam = client.camera
        self._say(f"rendering a {w}×{h} still…")
        try:
            with self._lock:
                pose = still_pose(self.session, self.time, cam.position, cam.look_at,
                                  cam.up_direction, np.degrees(cam.fov))
                path = self.session.still(self.time, pose, (w, h))
        except Exception as exc:  # noqa: BLE001 - shown in the page; the explorer goes on
            self._say(f"**still failed: {type(exc).__name__}: {exc}**")
            return
        self._say_path(path)

    # ------------------------------------------------------------------ lifetime

    def stop(self) -> None:
        self._stop.set()
        self.server.stop()


def serve(session: ExploreSession, host: str, port: int, *, ready=None) -> None:
    """Serve until interrupted (Ctrl-C)."""
    from lossfilm.render.pipeline import note

    app = ExplorerApp(session, host, port)
    note(f"explorer of {session.scene.name} at {app.url} (Ctrl-C stops it)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        note(f"--host {host}: anyone who can reach this address can use the explorer and"
            " make it write scene files and stills")
    if ready is not None:
        ready(app)
    try:
        while True:
            _time.sleep(3600)
    finally:
        app.stop()
