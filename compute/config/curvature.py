"""The ``lossfilm.compute.curvature.spectra`` section: Hessian spectra per state (torch-free settings).
"""

from __future__ import annotations

import dataclasses

from lossfilm.compute.config.options import option


HVP_METHODS = ("double_backward", "jvp")


@dataclasses.dataclass(frozen=True)
class CurvatureConfig:
    """Hessian spectra of the loss in the full weight space (all parameters, like PyHessian)."""

    enabled: bool = option(False, "compute curvature after the surfaces")
    top_k: int = option(1, "how many of the largest Hessian eigenvalues to report", min=1, max=64)
    trace: bool = option(True, "estimate the Hessian trace per state (Hutchinson)")
    trace_samples: int = option(32, "Rademacher probes for the trace", min=1)
    iterations: int = option(60, "cap on Lanczos steps (Hessian-vector products) per eigensolve",
                             min=2)
    tol: float = option(1e-3, "relative residual at which the wanted eigenvalues count as converged",
                        exclusive_min=True, min=0, max=1)
    seed: int = option(0, "seed of the Lanczos start vector and the trace probes", min=0)
    subgrid_every: int = option(
        0, "every k-th grid point along each axis gets |λmin/λmax| (0 = no convexity map)", min=0
    )
    subgrid_iterations: int = option(
        20, "cap on Lanczos steps at each sub-grid point (extremes only)", min=2
    )
    per_state: bool = option(True, "record sharpness, λmin and trace at each state's weights")
    hvp: str = option("double_backward", "how Hessian-vector products are taken",
                      choices=HVP_METHODS)
    dtype: str = option("float32", "precision of the products", choices=("float32", "float64"))
