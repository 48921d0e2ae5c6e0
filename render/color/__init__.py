"""Colormaps as lookup tables. May import render.assets only.
"""
