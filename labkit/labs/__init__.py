"""The lessons: the notebooks' experiments, scenarios and self-checks.

This layer sits above :class:`labkit.Simulator` and the engine packages
(``core``, ``origin``, ``gateway``, ``transport``, ``inspect``, ``retry``), which
never import it; the widgets and the notebooks call it.
"""

from ._herd import herd_over_http

__all__ = ["herd_over_http"]
