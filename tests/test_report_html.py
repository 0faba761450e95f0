"""The HTML report (issue 14): built from jinja2 templates, valid HTML (html5lib's strict parser
reports no error), real tables, a table of contents, the method and data provenance sections,
the GARCH fits as tables and the conditional-volatility plot."""

from __future__ import annotations

from pathlib import Path

import html5lib
from conftest import run_cli


def parse(path: Path) -> object:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(path.read_bytes())
    assert not parser.errors
    return tree


def texts(tree: object, tag: str) -> list[str]:
    return ["".join(el.itertext()).strip() for el in tree.iter(tag)]  # type: ignore[attr-defined]


def test_lockup_report_is_valid_html_with_tables_toc_and_garch(tmp_path: Path) -> None:
    out = tmp_path / "r"
    code, _, err = run_cli("lockup", "0020.HK", "--offline", "--tranche", "cornerstone",
                           "--out", str(out))
    assert code == 0, err
    tree = parse(out / "report.html")
    headings = texts(tree, "h2")
    for title in ("Data and provenance", "Events", "Cumulative abnormal returns",
                  "Volatility (GARCH, arch)", "Method"):
        assert title in headings
    toc = texts(tree.find(".//nav"), "a")  # type: ignore[attr-defined]
    assert toc == headings
    tables = list(tree.iter("table"))  # type: ignore[attr-defined]
    assert len(tables) >= 7
    header = [t for t in texts(tree, "th")]
    for column in ("AR(0)", "estimate", "p-value"):
        assert column in header
    # 71 estimation sessions < MIN_GARCH_ESTIMATION: no GARCH fit, so no parameters table,
    # the warning and the raw residual variance ratio's permutation test instead
    assert "omega" not in header
    cells = texts(tree, "td")
    assert "permutation: raw residual e^2 (no GARCH filter)" in cells
    assert any("WARNING: GARCH not fitted: 71 estimation sessions < 250" in li
               for li in texts(tree, "li"))
    assert "-46.15%" in cells
    images = [el.get("src") for el in tree.iter("img")]  # type: ignore[attr-defined]
    pngs = sorted(out.glob("*.png"))
    assert len(images) == len(pngs) and all(s.startswith("data:image/png;base64,")
                                            for s in images)
    # the EWMA fallback (71 sessions) is named by the model used, never *_garch_*
    assert any(p.name.endswith("_ewma_volatility.png") for p in pngs)
    assert any(p.name.endswith("_ewma_diagnostics.png") for p in pngs)
    assert not any("garch" in p.name for p in pngs)


def test_garch_report_has_fit_tables(tmp_path: Path) -> None:
    out = tmp_path / "g"
    code, _, err = run_cli("garch", "0020.HK", "--offline", "--out", str(out))
    assert code == 0, err
    tree = parse(out / "report.html")
    captions = " ".join(texts(tree, "p"))
    assert "Model candidates by BIC" in captions and "Event-induced volatility tests" in captions
    cells = texts(tree, "td")
    assert "robust QLR: post-event variance dummy" in cells
    assert any(c.startswith("permutation: z^2") for c in cells)
    assert "Conditional volatility (GARCH)" in texts(tree, "figcaption")  # fitted: GARCH
    assert any(p.name.endswith("_garch_volatility.png") for p in out.iterdir())
    assert texts(tree, "h1")[0].startswith("GARCH volatility: ")
    assert (out / ".eventstudy-report").is_file()
    header = texts(tree, "th")
    for column in ("estimate", "std. error", "bic", "p-value", "omega", "alpha[1]"):
        assert column in header
    md = (out / "report.md").read_text()
    assert "```" not in md and "| omega" in md
    assert "WARNING: GARCH fitted on " in md and "estimation sessions \\< 250" in md


def test_listing_report_is_valid_html(tmp_path: Path) -> None:
    out = tmp_path / "l"
    code, _, err = run_cli("listing", "0020.HK", "9660.HK", "--offline", "--out", str(out))
    assert code == 0, err
    tree = parse(out / "report.html")
    assert "Listing day" in texts(tree, "h2") and "Method" in texts(tree, "h2")
