"""The mesh stage: a surface sequence becomes one topology and a stream of frames
(heights, time, upsampling, landmarks, actors, export). May import render.scene, compute.store.
"""
