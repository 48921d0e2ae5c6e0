"""Text, plots and annotations drawn on frames and stills.
May import render.scene, render.color, render.mesh.
"""
