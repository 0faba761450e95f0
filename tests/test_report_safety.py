"""Every user-supplied string in a report is data (issue 9, security): names, tranches, groups,
event ids, notes and sources cannot add markup, lines or files to report.md or report.html, and
the HTML embeds only the figure files the run wrote. report.md is parsed as CommonMark
(markdown-it-py) and report.html with html5lib's strict parser; the structure of a report with
injected strings must equal that of a report with a harmless name."""

from __future__ import annotations

import base64
import copy
import csv
import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import html5lib
import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from eventstudy.calendar.events import make_event
from eventstudy.report.content import report_document
from eventstudy.report.document import Image, to_markdown
from eventstudy.report.escape import md
from eventstudy.report.html import html_report
from eventstudy.report.writer import write_report
from eventstudy.results.result import CrossSection, EventStudyResult
from eventstudy.studies.lockup import event_study

SECRET = "TOP-SECRET-5f0c1e"
PNG = b"\x89PNG\r\n\x1a\n" + b"our own figure" + b"\x00IEND\xaeB`\x82"
HTML_TAGS = {"html", "head", "body", "meta", "title", "style", "h1", "h2", "h3", "h4", "h5",
             "h6", "nav", "strong", "ol", "ul", "li", "a", "section", "p", "div", "table",
             "thead", "tbody", "tr", "th", "td", "figure", "figcaption", "img", "span",
             "details", "summary"}


def injections(secret: Path) -> list[str]:
    return [f"\n![x]({secret})", f"x\n\n![x]({secret})\n", f"![x]({secret})",
            f'<img src="{secret}">', "<script>alert(1)</script>", "\r\n# Injected heading",
            "\n- injected item", "| a | b |\n|---|---|\n| c | d |", "[link](javascript:x)",
            "`code` *em* _em_ ~~s~~", "&lt;script&gt;", "\x1b[31mred\x1b[0m\x07", "\u202eevil",
            "\n<!-- comment -->\n<div>raw</div>", "1. ordered", "---", "\ufffe\ud800"[:1],
            "\x00nul\x85next\u2028line", "    indented code", "<https://example.org>"]


def names(secret: Path) -> st.SearchStrategy[str]:
    fixed = st.sampled_from(injections(secret))
    return st.one_of(fixed, st.text(max_size=30),
                     st.builds(lambda a, b, c: a + b + c, st.text(max_size=8), fixed,
                               st.text(max_size=8)))


@pytest.fixture(scope="module")
def base() -> EventStudyResult:
    events = [make_event("0020.HK", "2022-06-30", tranche="cornerstone"),
              make_event("9660.HK", "2025-04-24", tranche="cornerstone")]
    return event_study([e for e in events if e is not None], offline=True)


def injected(base: EventStudyResult, name: str) -> EventStudyResult:
    """A copy of ``base`` in which every user-supplied string is ``name``."""
    res = copy.deepcopy(base)
    old_ids = list(res.events["event_id"])
    ids = {old: f"{old.split(':')[0]}:{name}:{old.split(':')[-1]}" for old in old_ids}
    frames = {frame: getattr(res, frame).assign(event_id=getattr(res, frame)["event_id"].map(ids))
              for frame in ("car", "abnormal_returns", "volume", "bhar")}
    return dataclasses.replace(
        res, **frames,
        events=res.events.assign(event_id=res.events["event_id"].map(ids), tranche=name,
                                 group=name, note=name, name=name),
        cross_section=CrossSection(res.tests.assign(group=name), res.caar),
        skipped=res.skipped.__class__({"event_id": [name], "reason": [name]}),
        notes=(name,), sources={ticker: name for ticker in res.sources},
        listings={t: dataclasses.replace(lst, name=name, source=name)
                  for t, lst in res.listings.items()})


def render(result: EventStudyResult, name: str, figure: Path) -> tuple[str, str]:
    doc = report_document(result, [Image(figure.name, name)], {})
    return to_markdown(doc), html_report(doc, {figure.name: figure})


def markdown_structure(text: str) -> tuple[Counter[str], list[str]]:
    """Token types of report.md as CommonMark with tables, and the image sources."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    kinds: Counter[str] = Counter()
    images = []
    stack = list(tokens)
    while stack:
        token = stack.pop()
        kinds[token.type] += 1
        if token.type == "image":
            images.append(str(token.attrGet("src")))
        stack.extend(token.children or [])
    return kinds, images


def html_structure(text: str) -> tuple[Counter[str], list[str]]:
    """Element names of report.html (strict parse: any error fails) and the image sources."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(text)
    tags = Counter(el.tag for el in tree.iter() if isinstance(el.tag, str))
    return tags, [str(el.get("src")) for el in tree.iter("img")]


def check(md_text: str, html_text: str, reference: tuple[Any, Any], secret: Path,
          figure: Path) -> None:
    assert SECRET not in md_text and SECRET not in html_text
    kinds, md_images = markdown_structure(md_text)
    assert md_images == [figure.name]
    assert not {"html_block", "html_inline", "link_open", "code_inline", "code_block",
                "em_open", "strong_open"} & set(kinds)
    assert kinds == reference[0]
    tags, html_images = html_structure(html_text)
    assert set(tags) <= HTML_TAGS and tags == reference[1]
    assert html_images == [f"data:image/png;base64,{base64.b64encode(PNG).decode()}"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("safety")
    secret = folder / "secret.txt"
    secret.write_text(SECRET)
    figure = folder / "caar.png"
    figure.write_bytes(PNG)
    return secret, figure


REFERENCES: dict[tuple[int, str], tuple[Any, Any]] = {}


def reference(base: EventStudyResult, name: str, figure: Path) -> tuple[Any, Any]:
    """The structure of the same report with a harmless name (empty if ``name`` cleans to
    nothing: empty cells and headings change the token counts, not the markup)."""
    plain = "plain" if md(name) else ""
    key = (id(base), plain)
    if key not in REFERENCES:
        pages = render(injected(base, plain), plain, figure)
        REFERENCES[key] = markdown_structure(pages[0])[0], html_structure(pages[1])[0]
    return REFERENCES[key]


def test_injected_strings_render_as_text(base: EventStudyResult, files: tuple[Path, Path]
                                         ) -> None:
    secret, figure = files
    assert reference(base, "x", figure)[1]["table"] >= 5
    for name in injections(secret):
        check(*render(injected(base, name), name, figure), reference(base, name, figure),
              secret, figure)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_name_renders_as_text(base: EventStudyResult, files: tuple[Path, Path],
                                  data: st.DataObject) -> None:
    secret, figure = files
    name = data.draw(names(secret))
    check(*render(injected(base, name), name, figure), reference(base, name, figure), secret,
          figure)


def test_html_embeds_only_the_figures_the_run_wrote(base: EventStudyResult,
                                                     files: tuple[Path, Path]) -> None:
    secret, figure = files
    doc = report_document(base, [Image(str(secret), "not ours"), Image(figure.name, "ours")], {})
    html = html_report(doc, {figure.name: figure})
    assert SECRET not in html and html.count("<img ") == 1


@pytest.mark.parametrize("name", [0, 4])
def test_a_full_report_with_an_injected_tranche(base: EventStudyResult, files: tuple[Path, Path],
                                                tmp_path: Path, name: int) -> None:
    secret, _ = files
    text = injections(secret)[name]
    events = [make_event("0020.HK", "2022-06-30", tranche=text, group=text),
              make_event("9660.HK", "2025-04-24", tranche=text, group=text)]
    result = event_study([e for e in events if e is not None], offline=True)
    result = dataclasses.replace(result, notes=(*result.notes, text))
    out = write_report(result, tmp_path / "r")
    md_text, html_text = (out / "report.md").read_text(), (out / "report.html").read_text()
    assert SECRET not in md_text and SECRET not in html_text
    _, md_images = markdown_structure(md_text)
    _, html_images = html_structure(html_text)
    written = sorted(p.name for p in out.glob("*.png"))
    assert sorted(md_images) == written and len(html_images) == len(written)
    assert "<script" not in html_text


def test_cli_batch_with_an_injected_events_file(tmp_path: Path, files: tuple[Path, Path]
                                                ) -> None:
    secret, _ = files
    path = tmp_path / "events.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticker", "date", "tranche", "group"])
        writer.writerow(["0020.HK", "2022-06-30", f"a ![x]({secret})", "<script>x</script>"])
        writer.writerow(["9660.HK", "2025-04-24", "b", f"|![y]({secret})|"])
    code, _, err = run_cli("batch", str(path), "--offline", "--out", str(tmp_path / "r"))
    assert code == 0, err
    for page in ("report.md", "report.html"):
        assert SECRET not in (tmp_path / "r" / page).read_text()
    html_structure((tmp_path / "r" / "report.html").read_text())
    # A line break in a cell is refused at input, before anything is studied or written.
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticker", "date", "tranche"])
        writer.writerow(["0020.HK", "2022-06-30", f"a\n![x]({secret})"])
    code, _, err = run_cli("batch", str(path), "--offline", "--out", str(tmp_path / "s"))
    assert code == 2 and "control character" in err and not (tmp_path / "s").exists()
