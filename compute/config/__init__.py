"""The compute section of the scene schema, torch-free: typed, documented dataclasses
and the `option` declaration they are built from. Imports nothing heavy and nothing else of lossfilm.
"""
