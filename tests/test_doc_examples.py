"""Every example in README.md and docs/*.md runs as written (issue 20), offline.

A fenced ```python block is executed (the blocks of one page in order, in one namespace, as a
reader pastes them). In a ```bash block every line starting with ``eventstudy `` is run through
the CLI (study commands write their report into a temporary ``--out``; a ``$ `` prompt is
dropped) and must exit 0 (``upcoming``: 0 or 10), or the code its comment names, as in
``eventstudy lockup 9988.HK --offline  # exit 2``; when an untyped fenced
block follows it directly, that block is the command's output as printed, and every line of it
except ``...`` must appear in what the command prints now. A block preceded by a line
``<!-- illustrative: reason -->`` is not run (installing, cron, CI files): there are few of them,
and each gives its reason."""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\S*)\s*$")
ILLUSTRATIVE = re.compile(r"^<!-- illustrative: \S.* -->$")
STUDIES = {"lockup", "batch", "garch", "listing"}
MAX_ILLUSTRATIVE = 20  # crontab, unit and CI files, installs, long simulations: a few per page


@dataclass
class Block:
    page: str
    line: int
    lang: str
    text: str
    illustrative: bool
    output: str | None = None  # the untyped block right after it, if any


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a page; an untyped block right after another is its output."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    i, last_end = 0, -2
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].rstrip() == "```")
        text = "\n".join(lines[i + 1:end])
        previous = lines[i - 1].strip() if i else ""
        if not m.group(1) and found and last_end == i - 2 and not lines[i - 1].strip():
            found[-1].output = text
        else:
            found.append(Block(path.name, i + 1, m.group(1), text,
                               bool(ILLUSTRATIVE.match(previous))))
        last_end, i = end, end + 1
    return found


ALL = [b for page in PAGES for b in blocks(page)]
PYTHON_PAGES = sorted({b.page for b in ALL if b.lang == "python" and not b.illustrative})
EXIT = re.compile(r"#.*\bexit (?:code )?(\d+)")


def commands(text: str) -> list[str]:
    """The ``eventstudy ...`` lines of a shell block, without a ``$ `` prompt."""
    lines = (line.removeprefix("$ ") for line in text.split("\n"))
    return [line for line in lines if line.startswith("eventstudy ")]


SHELL = [b for b in ALL if b.lang in ("bash", "sh", "console", "shell") and not b.illustrative
         and commands(b.text)]


def test_examples_are_found_and_few_are_illustrative() -> None:
    assert PYTHON_PAGES and "README.md" in PYTHON_PAGES
    assert any(b.page == "README.md" and b.output for b in SHELL)
    illustrative = [b for b in ALL if b.illustrative]
    assert len(illustrative) <= MAX_ILLUSTRATIVE, [f"{b.page}:{b.line}" for b in illustrative]


def test_every_block_is_run_or_says_why_not() -> None:
    """A block is Python or an ``eventstudy`` command (both run), or marked illustrative."""
    run = [b for b in ALL if b.lang == "python" or b in SHELL]
    unaccounted = [f"{b.page}:{b.line}" for b in ALL if b not in run and not b.illustrative]
    assert not unaccounted, "run these blocks, or mark them <!-- illustrative: reason -->"


def test_a_block_is_marked_illustrative_only_with_its_reason(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- illustrative -->\n```bash\nmake demo\n```\n\n"
                    "<!-- illustrative: installs -->\n```bash\nmake demo\n```\n\n"
                    "```bash\n$ eventstudy fetch X  # exit 3\n```\n\n```\nout\n```\n")
    found = blocks(page)
    assert [b.illustrative for b in found] == [False, True, False]
    assert found[2].output == "out"
    assert commands(found[2].text) == ["eventstudy fetch X  # exit 3"]
    match = EXIT.search(commands(found[2].text)[0])
    assert match and match.group(1) == "3"


@pytest.mark.parametrize("page", PYTHON_PAGES)
def test_python_examples_run(page: str) -> None:
    import matplotlib.pyplot as plt

    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    for block in [b for b in ALL if b.page == page and b.lang == "python"
                  and not b.illustrative]:
        code = compile(block.text, f"{page}:{block.line}", "exec")
        exec(code, namespace)  # the documentation's own example, as a reader runs it
    plt.close("all")


def command_args(line: str, out: Path) -> list[str]:
    """The arguments of a documented ``eventstudy ...`` line, its report written into ``out``."""
    args = shlex.split(line.split(" #")[0])[1:]
    command = next((a for a in args if not a.startswith("-")), "")
    if command in STUDIES and "--out" not in args and "--no-report" not in args:
        args += ["--out", str(out)]
    return args


RUNS: dict[tuple[str, ...], tuple[int, str, str]] = {}


def run_once(line: str, out: Path) -> tuple[list[str], tuple[int, str, str]]:
    """Run a documented command, once per session for the same arguments (pages repeat the
    SenseTime study)."""
    args = command_args(line, out)
    key = tuple(a for a in args if a != str(out))
    if key not in RUNS:
        RUNS[key] = run_cli(*args)
    return args, RUNS[key]


def normal(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("block", SHELL, ids=[f"{b.page}:{b.line}" for b in SHELL])
def test_shell_examples_run_and_print_what_the_page_shows(block: Block, tmp_path: Path) -> None:
    for k, line in enumerate(commands(block.text)):
        for folder in ("configs", "data"):  # the checkout's files a command names, as copies
            if re.search(rf"(^|[\s=]){folder}/", line) and not (tmp_path / folder).exists():
                shutil.copytree(ROOT / folder, tmp_path / folder)
        args, (code, stdout, stderr) = run_once(line, tmp_path / f"report{k}")
        named = EXIT.search(line)
        allowed = ({int(named.group(1))} if named else {0, 10} if "upcoming" in args else {0})
        assert code in allowed, f"{line}\n{stderr}"
    if block.output is not None:
        printed = {normal(line) for line in stdout.split("\n")}
        shown = [normal(line) for line in block.output.split("\n")
                 if normal(line) not in ("", "...")]
        missing = [line for line in shown if line not in printed]
        assert not missing, f"{block.page}:{block.line} shows lines the command no longer prints"
    comments = [line[2:] for line in block.text.split("\n") if line.startswith("# ")]
    for comment in comments:  # output shown as comments: each '...'-separated piece is printed
        for piece in (p.strip() for p in comment.split("...")):
            assert not piece or normal(piece) in normal(stdout), f"{block.page}: {piece}"


def test_the_site_lists_every_page_and_every_listed_page_exists() -> None:
    import yaml

    def pages(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [p for v in node.values() for p in pages(v)]
        if isinstance(node, list):
            return [p for v in node for p in pages(v)]
        return []

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = pages(config["nav"])
    assert sorted(listed) == sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert config.get("strict") is True


def test_readme_is_a_front_page_whose_links_resolve() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200
    for needed in ("make demo", "make test", "eventstudy-ipo", "```python", "| command |"):
        assert needed in text
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\((?!/)([^)#:]+)(?:#[^)]*)?\)", text):
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def test_every_dependency_is_explained_in_the_library_table() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [*project["dependencies"],
             *(s for extra in project["optional-dependencies"].values() for s in extra)]
    names = {re.split(r"[\[<>=~!; ]", s, maxsplit=1)[0].lower() for s in specs}
    table = (ROOT / "docs" / "libraries.md").read_text(encoding="utf-8").lower()
    missing = sorted(n for n in names if n not in table)
    assert not missing, f"say why in docs/libraries.md: {missing}"
