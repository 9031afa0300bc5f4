"""Notebook widgets. They display plain data from the rest of labkit and hold no logic.

ipywidgets is imported here only, so ``import labkit`` stays fast.
"""

from ._compare import CompareExchanges
from ._portal import PortalModes, SignInForm
from ._status import StatusExplorer

__all__ = ["CompareExchanges", "PortalModes", "SignInForm", "StatusExplorer"]
