"""Notebook widgets. They display plain data from the rest of labkit and hold no logic.

ipywidgets is imported here only, so ``import labkit`` stays fast.
"""

from ._clients import ClientExplorer
from ._compare import CompareExchanges
from ._herd import HerdLab, ScheduleChoice, describe_herd, herd_extent, plot_herd
from ._portal import PortalModes, SignInForm
from ._retry import RetryLab, describe_timeline, plot_timeline
from ._status import StatusExplorer

__all__ = [
    "ClientExplorer",
    "CompareExchanges",
    "HerdLab",
    "PortalModes",
    "RetryLab",
    "ScheduleChoice",
    "SignInForm",
    "StatusExplorer",
    "describe_herd",
    "describe_timeline",
    "herd_extent",
    "plot_herd",
    "plot_timeline",
]
