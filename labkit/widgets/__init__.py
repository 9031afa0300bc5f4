"""Notebook widgets. They display plain data from the rest of labkit and hold no logic.

ipywidgets is imported here only, so ``import labkit`` stays fast.
"""

__all__: list[str] = []
