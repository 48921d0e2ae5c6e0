"""The GL renderer: context, programs and shaders, the frame renderer, its passes (shadows,
the floor and its reflection, lens and shutter), stills.
May import render.scene, render.mesh, render.camera, render.color, render.overlay.
"""
