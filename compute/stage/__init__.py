"""The compute stage's orchestration: states, planes, tiles, the store. The top of compute;
nothing in compute imports it.
"""
