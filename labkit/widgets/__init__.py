"""Notebook widgets. They display plain data from the rest of labkit and hold no logic.

ipywidgets is imported here only, so ``import labkit`` stays fast.
"""

from ._compare import CompareExchanges
from ._herd import HerdLab, plot_herd
from ._portal import PortalModes, SignInForm
from ._retry import RetryLab, describe_timeline, plot_timeline
from ._status import StatusExplorer

__all__ = [
    "CompareExchanges",
    "HerdLab",
    "PortalModes",
    "RetryLab",
    "SignInForm",
    "StatusExplorer",
    "describe_timeline",
    "plot_herd",
    "plot_timeline",
]
