"""The origin server the client is trying to reach.

``ContentionModel`` and ``OutageModel`` are the server models behind ``/contention``
and ``/outage``; the herd simulation (:func:`labkit.retry.simulate_herd`) calls them
directly.
"""

from ._app import MAX_BODY_BYTES, MAX_HEADER_BYTES, Origin
from ._contention import ContentionModel
from ._outage import OutageModel

__all__ = ["ContentionModel", "MAX_BODY_BYTES", "MAX_HEADER_BYTES", "Origin", "OutageModel"]
