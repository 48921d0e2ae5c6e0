"""Delivery: codecs, the ffmpeg encoder, chunked resumable rendering, probing, PNG.
May import render.scene, compute.execution.
"""
