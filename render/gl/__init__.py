"""The GL renderer: context, programs and shaders, the frame renderer, stills.
May import render.scene, render.mesh, render.camera, render.color, render.overlay.
"""
