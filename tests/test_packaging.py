"""pyproject.toml: the licence as an SPDX expression (a table makes setuptools warn on every
install) and a setuptools that understands it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_licence_is_an_spdx_string_for_setuptools_77_or_later() -> None:
    doc = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert doc["project"]["license"] == "MIT"
    assert not any("License ::" in c for c in doc["project"].get("classifiers", []))
    setuptools = next(r for r in doc["build-system"]["requires"] if r.startswith("setuptools"))
    assert int(re.search(r">=(\d+)", setuptools).group(1)) >= 77  # type: ignore[union-attr]
