"""The ``compute.experiment`` section: states produced by an experiment instead of plain training.

``kind`` picks an entry of :data:`compute.experiments.EXPERIMENT_KINDS`; each kind reads its
own sub-section (``curve``, ``swag``, ``wgan``) and ignores the others. The model, data,
``train`` (epochs, batch size, optimizer where the kind says so) and ``landscape`` sections
keep their meaning.
"""

from __future__ import annotations


from lossfilm.compute.config.experiment import ExperimentConfig

__all__ = ["ExperimentConfig"]


