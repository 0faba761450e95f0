"""The distribution (issue 20): pyproject (SPDX licence, name, bounds), the LICENSE file, the
version, and what the wheel carries: the bundled calendar, closures and real prices (copies of the
top-level ``configs/`` and ``data/``, kept identical), ``py.typed`` and the report templates, found
with importlib.resources by an installed copy run from another folder."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE = ROOT / "eventstudy"
BUNDLED = PACKAGE / "_bundled"
# What the program reads from data/ and so ships in the package (the Makefile's BUNDLED_DATA).
SHIPPED_DATA = {"PROVENANCE.md", "prices", "panel"}
# The other data/ entries are fixtures of the tests, not shipped (garch/ is GPL-2 data).
TEST_ONLY_DATA = {"factors", "garch", "research", "yfinance_history"}


def _pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_licence_is_an_spdx_string_for_setuptools_77_or_later() -> None:
    doc = _pyproject()
    assert doc["project"]["license"] == "MIT"
    assert not any("License ::" in c for c in doc["project"].get("classifiers", []))
    setuptools = next(r for r in doc["build-system"]["requires"] if r.startswith("setuptools"))
    assert int(re.search(r">=(\d+)", setuptools).group(1)) >= 77  # type: ignore[union-attr]


def test_the_licence_file_is_the_mit_licence() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text
    assert _pyproject()["project"]["license-files"] == ["LICENSE"]


def test_distribution_name_and_command() -> None:
    """Not ``eventstudy``: that PyPI name is another (GPL) project's; the import package and
    the command keep the name."""
    project = _pyproject()["project"]
    assert project["name"] == "eventstudy-ipo"
    assert project["scripts"] == {"eventstudy": "eventstudy.cli:main"}


def test_the_version_has_one_source_and_a_changelog_entry() -> None:
    from conftest import run_cli

    import eventstudy

    doc = _pyproject()
    assert "version" not in doc["project"] and "version" in doc["project"]["dynamic"]
    assert doc["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "eventstudy.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", eventstudy.__version__)
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[?{re.escape(eventstudy.__version__)}\]?", changelog, re.M)
    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"eventstudy, version {eventstudy.__version__}"


def test_every_dependency_has_a_tested_upper_bound() -> None:
    """A new major release cannot reach a user before it was tested (docs/install.md)."""
    doc = _pyproject()
    requirements = [*doc["build-system"]["requires"], *doc["project"]["dependencies"],
                    *(r for extra in doc["project"]["optional-dependencies"].values()
                      for r in extra)]
    unbounded = [r for r in requirements if not re.search(r",\s*<", r)]
    assert unbounded == []


def test_the_bundled_copies_are_the_top_level_files() -> None:
    """One source of truth: ``configs/`` and ``data/`` at the top; ``make bundle`` copies them
    into the package. Run it after editing them (this test fails until the copies agree)."""
    assert _files(BUNDLED / "configs") == _files(ROOT / "configs"), "run `make bundle`"
    shipped = {p.name for p in (BUNDLED / "data").iterdir()}
    assert shipped == SHIPPED_DATA, "run `make bundle`"
    for name in SHIPPED_DATA:
        top, copy = ROOT / "data" / name, BUNDLED / "data" / name
        if top.is_dir():
            assert _files(copy) == _files(top), f"data/{name}: run `make bundle`"
        else:
            assert copy.read_bytes() == top.read_bytes(), f"data/{name}: run `make bundle`"
    unknown = {p.name for p in (ROOT / "data").iterdir()} - SHIPPED_DATA - TEST_ONLY_DATA
    assert unknown == set(), ("new entries in data/: ship them (Makefile BUNDLED_DATA and "
                              "SHIPPED_DATA here) or list them in TEST_ONLY_DATA")
    assert not [p for p in BUNDLED.rglob("*") if p.is_symlink()]


def test_the_program_reads_the_bundled_copies_through_importlib_resources() -> None:
    from importlib import resources

    from eventstudy.calendar.listings import BUNDLED_LISTINGS
    from eventstudy.calendar.sessions import CLOSURES
    from eventstudy.data.files import BUNDLED_PRICES

    found = Path(str(resources.files("eventstudy") / "_bundled"))
    assert found.resolve() == BUNDLED.resolve()
    if not os.environ.get("EVENTSTUDY_BUNDLED_LISTINGS"):
        assert BUNDLED_LISTINGS.resolve() == (BUNDLED / "configs" / "listings.yaml").resolve()
    if not os.environ.get("EVENTSTUDY_CLOSURES"):
        assert CLOSURES.resolve() == (BUNDLED / "configs" / "closures.yaml").resolve()
    if not os.environ.get("EVENTSTUDY_DATA_DIR"):
        assert BUNDLED_PRICES.resolve() == (BUNDLED / "data" / "prices").resolve()


def _build(tmp_path: Path) -> tuple[Path, Path]:
    """The sdist, then the wheel built from it, from a copy of the sources in ``tmp_path``
    (nothing is written into the checkout); no network: the installed setuptools builds."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "MANIFEST.in"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "eventstudy",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir",
                           str(dist), str(source)], capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    return sdist, wheel


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _build(tmp_path_factory.mktemp("build"))


def test_the_wheel_carries_the_data_types_and_templates(built: tuple[Path, Path]) -> None:
    import eventstudy

    sdist, wheel = built
    assert wheel.name == f"eventstudy_ipo-{eventstudy.__version__}-py3-none-any.whl"
    assert sdist.name == f"eventstudy_ipo-{eventstudy.__version__}.tar.gz"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for relative, content in _files(BUNDLED).items():
            assert archive.read(f"eventstudy/_bundled/{relative}") == content, relative
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_bytes(archive.read(info))
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "eventstudy/py.typed" in names
    templates = {p.name for p in (PACKAGE / "report" / "templates").iterdir()}
    assert templates and {f"eventstudy/report/templates/{t}" for t in templates} <= names
    assert "eventstudy/_bundled/data/prices/0020.HK.csv" in names
    assert not any(n.startswith(("tests/", "data/", "configs/")) for n in names)
    assert meta["Name"] == "eventstudy-ipo" and meta["Version"] == eventstudy.__version__
    assert meta["License-Expression"] == "MIT"
    assert "eventstudy = eventstudy.cli:main" in entry_points


def test_the_installed_wheel_runs_the_main_command_from_another_folder(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    """``pip install`` of the wheel (into a target folder; the dependencies are this venv's),
    then ``eventstudy lockup 0020.HK`` offline from an empty folder: the SenseTime day."""
    _, wheel = built
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-index", "--target", str(site), str(wheel)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = ("import sys, eventstudy\nprint('FROM', eventstudy.__file__)\n"
            "from eventstudy.cli import main\n"
            "main(['lockup', '0020.HK', '--offline', '--no-report'])\n")
    env = {**os.environ, "PYTHONPATH": str(site), "EVENTSTUDY_CACHE_DIR": str(tmp_path / "c")}
    for name in ("EVENTSTUDY_BUNDLED_LISTINGS", "EVENTSTUDY_CLOSURES", "EVENTSTUDY_DATA_DIR",
                 "EVENTSTUDY_LISTINGS"):
        env.pop(name, None)
    run = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True,
                         text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"FROM {site / 'eventstudy' / '__init__.py'}" in run.stdout
    assert "0020.HK:cornerstone:2022-06-30" in run.stdout and "-46.77%" in run.stdout
    assert "bundled (0020.HK.csv)" in run.stdout
    assert list(work.iterdir()) == []
