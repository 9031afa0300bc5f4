"""The origin server the client is trying to reach."""

from ._app import MAX_BODY_BYTES, MAX_HEADER_BYTES, Origin

__all__ = ["MAX_BODY_BYTES", "MAX_HEADER_BYTES", "Origin"]
