"""The camera heart: keyed tracks, easing, headings, orientation, terrain and clip planes."""

from __future__ import annotations

import numpy as np
import pytest

from lossfilm.render.camera.motion import EASINGS, SplineTrack, ease, smooth_track

from lossfilm.render.camera.terrain import bilinear_height, cell_max_height, clip_planes, upper_envelope

from lossfilm.render.camera.orientation import OrientationSpline, continuous_headings, up_vectors

KEYS = np.array([[0, 0, 0], [1, 0, 0], [1, 2, 0.5], [3, 2, 1], [4, 0, 0.0]])
KEY_TIMES = np.array([0.0, 1.0, 2.5, 4.0, 5.0])


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles in degrees between rows of a and b."""
    cos = np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


@pytest.mark.parametrize("name", sorted(EASINGS))
def test_easings_map_unit_interval_monotonically(name):
    u = np.linspace(0, 1, 201)
    v = ease(name, u)
    assert v[0] == pytest.approx(0.0, abs=1e-12)
    assert v[-1] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(v) >= -1e-12)


def test_unknown_easing_is_a_value_error():
    with pytest.raises(ValueError, match="ease"):
        ease("bounce", 0.5)
    with pytest.raises(ValueError, match="ease"):
        SplineTrack([0, 1], [[0, 0], [1, 1]], ease="bounce")


def test_track_passes_keys_at_key_times():
    track = SplineTrack(KEY_TIMES, KEYS)
    np.testing.assert_allclose(track(KEY_TIMES), KEYS, atol=1e-3)
    # outside the key times the ends hold
    np.testing.assert_allclose(track(np.array([-1.0, 9.0])), KEYS[[0, -1]], atol=1e-9)


def test_position_is_c1_across_keyframes():
    track = SplineTrack(KEY_TIMES, KEYS)
    h = 1e-4
    for tk in KEY_TIMES[1:-1]:
        v_before = (track(tk) - track(tk - h)) / h
        v_after = (track(tk + h) - track(tk)) / h
        assert np.linalg.norm(v_after - v_before) < 0.02 * np.linalg.norm(v_before)
    # and no kink anywhere: velocity changes by a bounded amount between fine samples
    t = np.linspace(0, 5, 5001)
    v = np.gradient(track(t), t, axis=0)
    dv = np.linalg.norm(np.diff(v, axis=0), axis=1)
    assert dv.max() < 0.02


def test_even_timing_gives_even_speed():
    track = SplineTrack(KEY_TIMES, KEYS, timing="even")
    t = np.linspace(0, 5, 2001)
    speed = np.linalg.norm(np.gradient(track(t), t, axis=0), axis=1)[1:-1]
    assert speed.mean() == pytest.approx(track.length / 5.0, rel=1e-3)
    assert speed.std() / speed.mean() < 0.01


def test_keys_timing_is_even_where_key_times_follow_arc_length():
    even = SplineTrack(KEY_TIMES, KEYS, timing="even")
    times = 5.0 * even.key_arc / even.length
    track = SplineTrack(times, KEYS)
    t = np.linspace(0, 5, 2001)
    speed = np.linalg.norm(np.gradient(track(t), t, axis=0), axis=1)[1:-1]
    assert speed.std() / speed.mean() < 0.01


def test_equal_keys_hold_and_stop_smoothly():
    keys = np.array([[0, 0, 0], [1, 0, 0], [1, 0, 0], [2, 1, 0.0]])
    track = SplineTrack([0, 1, 2, 3], keys)
    held = track(np.linspace(1, 2, 11))
    np.testing.assert_allclose(held, np.repeat(keys[1:2], 11, axis=0), atol=1e-9)
    h = 1e-4
    assert np.linalg.norm(track(1.0) - track(1.0 - h)) / h < 0.05  # arrives at rest
    assert np.linalg.norm(track(2.0 + h) - track(2.0)) / h < 0.05  # leaves from rest


def test_tangents_make_a_hermite_track_in_time():
    tangents = np.array([[1, 0, 0], [0, 2, 0], [0, 0, -1.0]])
    track = SplineTrack([0, 1, 3], KEYS[:3], tangents=tangents)
    h = 1e-6
    for tk, vk in zip([0.0, 1.0, 3.0], tangents):
        lo, hi = max(tk - h, 0.0), min(tk + h, 3.0)
        np.testing.assert_allclose((track(hi) - track(lo)) / (hi - lo), vk, atol=1e-4)


def test_smoothstep_per_segment_stops_at_each_key():
    track = SplineTrack(KEY_TIMES, KEYS, ease="smoothstep")
    h = 1e-5
    for tk in KEY_TIMES[1:-1]:
        assert np.linalg.norm(track(tk + h) - track(tk - h)) / (2 * h) < 1e-3


def test_bad_key_times_are_value_errors():
    with pytest.raises(ValueError, match="times"):
        SplineTrack([0, 1, 1], KEYS[:3])
    with pytest.raises(ValueError, match="times"):
        SplineTrack([0, 1], KEYS[:3])


def test_headings_turn_smoothly_over_the_zenith():
    # the eye swings over the top of a target: the view passes straight down and the
    # horizontal view direction flips; the heading must not
    t = np.linspace(0, 4, 241)
    theta = np.linspace(np.radians(-60), np.radians(60), t.size)
    eye = np.stack([3 * np.sin(theta), 0 * theta, 3 * np.cos(theta)], axis=1)
    forward = -eye / np.linalg.norm(eye, axis=1, keepdims=True)
    heading = continuous_headings(forward, t)
    up = up_vectors(forward, heading)
    # 60 samples/s: a flip would be ~180 degrees; the catch-up roll is at most 6 per sample
    assert np.max(_angle(up[1:], up[:-1])) < 7.0
    assert np.max(_angle(forward[1:], forward[:-1])) < 4.0
    # and once past the top the image is upright again (right-side-up horizon)
    assert up[0, 2] > 0.4 and up[-1, 2] > 0.4
    np.testing.assert_allclose(np.sum(up * forward, axis=1), 0.0, atol=1e-9)


def test_up_is_well_defined_looking_straight_down_and_up():
    forward = np.array([[0, 0, -1.0], [0, 0, 1.0]])
    up = up_vectors(forward, np.array([[0.0, 1.0], [0.0, 1.0]]))
    np.testing.assert_allclose(np.linalg.norm(up, axis=1), 1.0)
    np.testing.assert_allclose(np.sum(up * forward, axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(up[0], [0, 1, 0], atol=1e-12)  # top view: image top = heading


def test_roll_turns_up_about_the_view():
    forward = np.array([[1.0, 0, 0]])
    up0 = up_vectors(forward, np.array([[1.0, 0]]), 0.0)[0]
    up90 = up_vectors(forward, np.array([[1.0, 0]]), 90.0)[0]
    np.testing.assert_allclose(up0, [0, 0, 1], atol=1e-12)
    assert _angle(up0, up90) == pytest.approx(90.0)
    assert abs(up90 @ forward[0]) < 1e-12


def test_orientation_spline_hits_keys_and_turns_smoothly():
    times = np.array([0.0, 1.0, 2.0])
    forward = np.array([[1, 0, 0], [0, 0, -1], [-1, 0, 0.0]])  # over the top, half a turn
    up = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 1.0]])
    spline = OrientationSpline(times, forward, up)
    f, u = spline(times)
    np.testing.assert_allclose(f, forward, atol=1e-9)
    t = np.linspace(0, 2, 201)
    f, u = spline(t)
    assert np.max(_angle(f[1:], f[:-1])) < 3.0
    assert np.max(_angle(u[1:], u[:-1])) < 3.0


def test_bilinear_height_is_exact_on_planes_and_cell_max_is_above():
    x0, y0 = np.linspace(-1, 1, 9), np.linspace(-2, 2, 11)
    X, Y = np.meshgrid(x0, y0)
    z = 0.5 * X - 0.25 * Y + 1.0
    rng = np.random.default_rng(0)
    xy = rng.uniform([-1, -2], [1, 2], size=(200, 2))
    np.testing.assert_allclose(
        bilinear_height(x0, y0, z, xy), 0.5 * xy[:, 0] - 0.25 * xy[:, 1] + 1.0, atol=1e-12
    )
    bowl = X**2 + Y**2
    assert np.all(cell_max_height(x0, y0, bowl, xy) >= bilinear_height(x0, y0, bowl, xy) - 1e-12)


def test_upper_envelope_stays_above_and_is_smooth():
    rng = np.random.default_rng(1)
    v = rng.uniform(0, 1, 300)
    env = upper_envelope(v, 5.0)
    assert np.all(env >= v - 1e-12)
    assert np.max(np.abs(np.diff(env, 2))) < 0.05


def test_smooth_track_keeps_still_targets_and_damps_jitter():
    t = np.linspace(0, 5, 151)
    still = np.tile([[0.3, -0.2, 0.1]], (t.size, 1))
    np.testing.assert_allclose(smooth_track(t, still, 0.5), still, atol=1e-12)
    jitter = still + 0.05 * np.random.default_rng(2).standard_normal(still.shape)
    assert np.std(np.diff(smooth_track(t, jitter, 0.5), axis=0)) < 0.2 * np.std(
        np.diff(jitter, axis=0)
    )


def test_clip_planes_cover_the_bounds_and_never_cut_the_surface():
    x0, y0 = np.linspace(-1, 1, 17), np.linspace(-1, 1, 17)
    z = np.zeros((17, 17))
    eye = np.array([0.1, 0.2, 0.05])
    near, far = clip_planes(eye, (-1, -1, 0), (1, 1, 0.5), x0, y0, z)
    assert 0 < near <= 0.05 * 0.5
    corner = np.linalg.norm(np.array([-1, -1, 0.5]) - eye)
    assert far >= corner
    near_far, _ = clip_planes(np.array([0, 0, 5.0]), (-1, -1, 0), (1, 1, 0.5), x0, y0, z)
    assert near_far > 1.0  # far from the surface the near plane moves out (depth precision)
