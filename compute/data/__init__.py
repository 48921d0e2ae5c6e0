"""Data sets generated from a seed, and user data factories. May import compute.config.
"""
