"""Camera paths: shots, presets, keyframes, orientation, terrain following.
May import render.scene, render.mesh.
"""
