"""A finding: what the Inspector says about one exchange (httplint's Note, as plain data)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["LEVELS", "Finding"]

# Most serious first. "error": the exchange breaks a MUST (or will mislead
# clients and caches); "warning": it breaks a SHOULD; "info": a MAY left out,
# or what HTTP allows but is worth knowing; "good": a check that passed
# (hidden unless asked for). `labkit inspect` exits 1 on errors only.
LEVELS = ("error", "warning", "info", "good")


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict: ``id``, ``level``, one-line ``summary``, longer
    ``explanation`` and the ``rfc`` section it rests on. ``source`` is
    ``"labkit"`` or ``"httplint"``; ``subject`` names the header or part concerned."""

    id: str
    level: str
    summary: str
    explanation: str
    rfc: str
    source: str = "labkit"
    subject: str = ""

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {self.level!r}")

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level)

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"[{self.level}] {self.id}: {self.summary} ({self.rfc})"
