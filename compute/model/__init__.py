"""The model zoo and the losses (torch). May import compute.config.
"""
