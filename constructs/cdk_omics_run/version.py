"""The library's version: one source, the package metadata (``[project] version`` in pyproject.toml).

Installed, the version is the distribution's own (``importlib.metadata``). Run
from a source checkout that was never installed, it is read from that
checkout's pyproject.toml, so it never goes out of step.

Example::

    from cdk_omics_run.version import VERSION

    print(VERSION)  # "0.1.0"
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "cdk-omics-run"
# constructs/cdk_omics_run/version.py -> the checkout's root.
_CHECKOUT_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
# The [project] table's version line, as pyproject.toml writes it (no TOML parser before Python 3.11).
_PROJECT_VERSION = re.compile(r'^\[project\]$(?:(?!^\[).)*?^version\s*=\s*"([^"]+)"', re.MULTILINE | re.DOTALL)
UNKNOWN = "0+unknown"


def library_version() -> str:
    """The installed distribution's version; else the source checkout's; else ``0+unknown``."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return checkout_version(_CHECKOUT_PYPROJECT)


def checkout_version(pyproject: Path) -> str:
    """The ``[project] version`` of a pyproject.toml, or ``0+unknown`` when there is none."""
    try:
        return project_version(pyproject.read_text(encoding="utf-8"))
    except OSError:
        return UNKNOWN


def project_version(pyproject_text: str) -> str:
    """The ``[project] version`` in a pyproject.toml's text, or ``0+unknown`` when there is none."""
    found = _PROJECT_VERSION.search(pyproject_text)
    return found.group(1) if found else UNKNOWN


VERSION = library_version()
"""This library's version, for example ``"0.1.0"``."""
