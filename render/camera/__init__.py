"""Camera paths: shots, presets, keyframes, orientation, terrain following, framing, focus pulls.
May import render.scene, render.mesh.
"""
