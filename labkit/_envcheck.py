"""Is this environment able to run the course? Read from labkit's own metadata."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

__all__ = ["EnvironmentReport", "check_environment"]


@dataclass(frozen=True, slots=True)
class PackageCheck:
    package: str
    required: str
    installed: str | None
    ok: bool


@dataclass(frozen=True, slots=True)
class EnvironmentReport:
    python: str
    packages: tuple[PackageCheck, ...]

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.packages)

    @property
    def problems(self) -> list[str]:
        out = []
        for p in self.packages:
            if p.installed is None:
                out.append(f"{p.package} is missing: run `make lab` (or pip install -e .) to install it")
            elif not p.ok:
                out.append(f"{p.package} {p.installed} does not satisfy {p.required}")
        return out

    def summary(self) -> str:
        if self.ok:
            return f"Environment ok: all {len(self.packages)} required packages are installed."
        return "Environment NOT ready:\n- " + "\n- ".join(self.problems)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([asdict(p) for p in self.packages])


def check_environment() -> EnvironmentReport:
    """Check every runtime requirement that labkit's package metadata declares."""
    # Imported here: metadata parsing is slow and only this check needs it.
    from importlib import metadata

    from packaging.requirements import Requirement

    checks = []
    for text in metadata.requires("labkit") or []:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # test extras, or another platform's requirement
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            checks.append(PackageCheck(req.name, str(req.specifier), None, False))
            continue
        ok = req.specifier.contains(version, prereleases=True)
        checks.append(PackageCheck(req.name, str(req.specifier), version, ok))
    return EnvironmentReport(sys.version.split()[0], tuple(checks))
