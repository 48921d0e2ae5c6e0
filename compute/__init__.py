"""lossfilm compute stage: train or load a network and evaluate its loss on 2-D slices.

Never imports :mod:`render`; the surface-sequence store is the only contract between them.
"""
