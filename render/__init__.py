"""lossfilm's render side (installed as ``lossfilm.render``): the scene file, the mesh stage,
the camera, the GL renderer, the encoder, stills and the command line.

Rooms, lowest first; a room imports only rooms before it (``tests/test_layout.py``):

- ``scene``: the scene schema (mesh, camera, render, output sections), the YAML loader,
  ``keys`` and ``schema``; imports nothing heavy, so authoring commands answer at once.
- ``color``: colormaps and the sRGB transfer function.
- ``mesh``: a surface sequence becomes one topology and a stream of frames.
- ``camera``: shots, presets, keyframes, orientation, terrain following.
- ``overlay``: text, plots and still annotations.
- ``gl``: the EGL context, shaders, the frame renderer and tiled stills.
- ``output``: codecs, the ffmpeg encoder, chunked resumable rendering, probing, PNG.
- ``pipeline`` (scene -> compute -> store -> mesh -> render -> encode), ``sheet``,
  ``doctor`` and ``cli`` on top.

May import :mod:`lossfilm.compute` (its ``config``, ``store`` and ``execution`` rooms, and
``stage`` to run the compute stage); the reverse never happens.
"""
