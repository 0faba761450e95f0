"""``--out`` never destroys a user's files: only new, empty or own report folders are replaced
(issue 9, data loss); modes of report folders follow the umask."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DATA, run_cli

from eventstudy.errors import BadInput
from eventstudy.report.folder import MARKER, _replace_dir, building

LOCKUP = ("lockup", "0020.HK", "--offline", "--tranche", "cornerstone", "--no-garch")


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file and folder below ``folder``: mode and content."""
    out = {}
    for path in sorted(folder.rglob("*")):
        data = path.read_bytes() if path.is_file() else b""
        out[str(path.relative_to(folder))] = (path.lstat().st_mode, data)
    return out


def user_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "thesis.tex").write_text("my work\n")
    (path / "sub").mkdir()
    (path / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return path


def assert_refused(code: int, err: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: "), err


def test_an_existing_user_folder_is_refused_and_left_byte_identical(tmp_path: Path) -> None:
    mine = user_folder(tmp_path / "myproject")
    before = snapshot(mine)
    code, _, err = run_cli(*LOCKUP, "--out", str(mine))
    assert_refused(code, err)
    assert "not an eventstudy report" in err
    assert snapshot(mine) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("out", [".", "PWD", "a/..", "a/b/../.."])
def test_the_working_folder_is_refused(tmp_path: Path, out: str) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "notes.txt").write_text("keep me")
    before = snapshot(tmp_path)
    code, _, err = run_cli(*LOCKUP, "--out", str(tmp_path) if out == "PWD" else out)
    assert_refused(code, err)
    assert snapshot(tmp_path) == before


def test_the_working_folder_is_refused_even_when_empty(tmp_path: Path) -> None:
    work = tmp_path / "empty"
    work.mkdir()
    os.chdir(work)
    code, _, err = run_cli(*LOCKUP, "--out", ".")
    assert_refused(code, err)
    assert work.is_dir() and list(work.iterdir()) == []


def test_out_equal_to_the_data_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "prices"
    data.mkdir()
    for name in ("0020.HK.csv", "^HSI_2021-06-24_2026-06-23.csv"):
        (data / name).write_bytes((DATA / "prices" / name).read_bytes())
    before = snapshot(data)
    for out in (data, tmp_path):
        code, _, err = run_cli(*LOCKUP, "--data", str(data), "--out", str(out))
        assert_refused(code, err)
    assert snapshot(data) == before


def test_an_empty_folder_and_then_our_own_report_are_replaced(tmp_path: Path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    code, _, err = run_cli(*LOCKUP, "--out", str(out))
    assert code == 0, err
    marker = json.loads((out / MARKER).read_text())
    assert marker["tool"] == "eventstudy"
    assert set(marker["files"]) == {p.name for p in out.iterdir()} - {MARKER}
    code, _, err = run_cli(*LOCKUP, "--out", str(out))
    assert code == 0, err
    assert "report.html" in {p.name for p in out.iterdir()}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".r")] == []


def test_our_report_with_a_user_file_added_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "r"
    code, _, err = run_cli(*LOCKUP, "--out", str(out))
    assert code == 0, err
    (out / "my_notes.md").write_text("notes")
    before = snapshot(out)
    code, _, err = run_cli(*LOCKUP, "--out", str(out))
    assert_refused(code, err)
    assert "my_notes.md" in err
    assert snapshot(out) == before


def test_a_fake_or_broken_marker_does_not_make_a_folder_ours(tmp_path: Path) -> None:
    texts = ("", "{}", '{"tool": "eventstudy"}', '{"tool": "x", "files": ["a"]}', "[1]")
    for number, text in enumerate(texts):
        folder = tmp_path / f"f{number}"
        user_folder(folder)
        (folder / MARKER).write_text(text)
        before = snapshot(folder)
        with pytest.raises(BadInput), building(folder) as tmp:
            (tmp / "report.md").write_text("x")
        assert snapshot(folder) == before


def test_a_symlink_out_is_refused(tmp_path: Path) -> None:
    target = user_folder(tmp_path / "target")
    (tmp_path / "link").symlink_to(target)
    code, _, err = run_cli(*LOCKUP, "--out", str(tmp_path / "link"))
    assert_refused(code, err)
    assert (tmp_path / "link").is_symlink() and (target / "thesis.tex").exists()


def test_a_file_added_during_the_replacement_survives(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "r"
    with building(out) as tmp:
        (tmp / "report.md").write_text("old")
    new = tmp_path / ".new"
    new.mkdir()
    (new / "report.md").write_text("new")
    # the user saves a file into the old report between our check and the rename
    real_rename = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if self == out:
            (out / "late.txt").write_text("late")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    _replace_dir(new, out)
    monkeypatch.undo()
    assert (out / "report.md").read_text() == "new"
    kept = [p for p in tmp_path.iterdir() if p.name.startswith(".r.old-")]
    assert len(kept) == 1 and (kept[0] / "late.txt").read_text() == "late"
    assert sorted(p.name for p in kept[0].iterdir()) == ["late.txt"]


# Modes (issue 9: atomic writes reset modes; issue 14: report folders were 0700)


@pytest.fixture(params=[0o022, 0o002])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_atomic_writes_keep_an_existing_mode_and_follow_the_umask(tmp_path: Path,
                                                                  umask: int) -> None:
    from eventstudy.fileio import atomic_write_bytes, atomic_write_text

    new = tmp_path / "new.ics"
    atomic_write_bytes(new, b"BEGIN:VCALENDAR\r\n")
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    for mode in (0o664, 0o644, 0o600, 0o640):
        shared = tmp_path / f"shared_{mode:o}.yaml"
        shared.write_text("old")
        shared.chmod(mode)
        atomic_write_text(shared, "new")
        assert shared.read_text() == "new"
        assert stat.S_IMODE(shared.stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_report_folders_follow_the_umask(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "reports" / "r"
    code, _, err = run_cli(*LOCKUP, "--out", str(out))
    assert code == 0, err
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o777 & ~umask
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path.name
