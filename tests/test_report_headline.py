"""The report opens with its headline (issue 20), above the contents: per firm-day the day-0 AR
with t and p, CAR[-1,+1], the day-0 and [-1,+1] volume ratios and the GARCH volatility ratio; a
study of many firm-days opens with its CAAR and tests; the data sources are folded at the end;
every table sits in its own scroll box. Checked on the real SenseTime (0020.HK) study."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import html5lib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eventstudy import batch_study, lockup_study
from eventstudy.report.writer import write_report

DATA = Path(__file__).resolve().parent.parent / "data" / "prices"


def parse(path: Path):  # noqa: ANN201 - an ElementTree element
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(path.read_bytes())
    assert not parser.errors
    return tree


def text(element) -> str:  # noqa: ANN001
    return " ".join("".join(element.itertext()).split())


def cards(tree) -> dict[str, dict[str, str]]:  # noqa: ANN001
    """The headline's cards: caption -> {row label: value}."""
    headline = tree.find(".//section[@class='headline']")
    out = {}
    for block in headline.findall("div[@class='table']"):
        caption = block.find("p[@class='caption']")
        rows = {text(tr.find("th")): text(tr.find("td")) for tr in block.iter("tr")
                if tr.find("th") is not None and tr.find("td") is not None}
        out[text(caption)] = rows
    return out


@pytest.fixture(scope="module")
def sensetime(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    result = lockup_study(["0020.HK"], offline=True)  # every tranche, GARCH on (one ticker)
    folder = write_report(result, tmp_path_factory.mktemp("r") / "lockup_0020.HK")
    return result, folder


def test_headline_is_first_above_the_contents(sensetime) -> None:  # noqa: ANN001
    _, folder = sensetime
    body = parse(folder / "report.html").find("body")
    first = [child.tag for child in body][:3]
    assert first == ["h1", "section", "nav"]
    assert body[1].get("class") == "headline" and body[2].get("class") == "toc"
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert markdown.index("AR day 0") < markdown.index("## Events")


def test_headline_numbers_per_firm_day(sensetime) -> None:  # noqa: ANN001
    result, folder = sensetime
    shown = cards(parse(folder / "report.html"))
    assert len(shown) == 2  # June 2022 (three tranches, one firm-day) and December 2022
    june = next(v for k, v in shown.items() if "2022-06-30" in k)
    title = next(k for k in shown if "2022-06-30" in k)
    assert title.startswith("0020.HK SenseTime") and "cornerstone" in title
    event = "0020.HK:cornerstone:2022-06-30"
    ar = result.abnormal_returns.query("event_id == @event").set_index("day")["ar"]
    ev = result.events.set_index("event_id").loc[event]
    # prediction-error t: L - 2 degrees of freedom for the market model, L - 1 market-adjusted
    dof = int(ev["estimation_days"]) - (2 if str(ev["model"]).startswith("market model") else 1)
    car = result.car.set_index(["event_id", "window"])
    for label, days in (("AR day 0", [0]), ("CAR [-1,+1]", [-1, 0, 1])):
        value = ar.loc[days].sum()  # the CAR is the sum of the day ARs
        window = f"[{days[0]},{days[-1]}]" if days != [-1, 0, 1] else "[-1,+1]"
        t = car.loc[(event, window), "t"]
        p = 2 * stats.t.sf(abs(t), dof)
        p_shown = "p < 0.001" if p < 0.001 else f"p {p:.3f}"
        assert june[label] == f"{100 * value:+.2f}% (t {t:.2f}, {p_shown})"
    if str(ev["model"]) == "market-adjusted":  # AR(0) = R - Rm from the raw closes
        assert june["AR day 0"].startswith(f"{100 * (3.13 / 5.88 - 21859.79 / 21996.89):+.2f}%")
    # volume ratio of day 0, from the raw file: day-0 volume / mean traded volume of the
    # estimation window (a different number from the [-1,+1] ratio beside it)
    prices = pd.read_csv(DATA / "0020.HK.csv", skiprows=3, header=None, index_col=0,
                         parse_dates=True, names=["date", "close", "high", "low", "open",
                                                  "volume"])
    row = result.events.set_index("event_id").loc[event]
    window = prices.loc[row["estimation_start"]:row["estimation_end"], "volume"]
    ratio = prices.loc[row["day0"], "volume"] / window[window > 0].mean()
    assert june["volume ratio day 0"] == f"{ratio:.2f}x"
    assert june["volume ratio [-1,+1]"] != june["volume ratio day 0"]
    vol = result.extras["volatility"][event]
    # 71 estimation sessions < MIN_GARCH_ESTIMATION: the raw variance ratio, not a GARCH one
    assert june["volatility ratio"] == (f"raw {vol.ratio.raw_ratio:.3f} (permutation p "
                                        f"{vol.ratio.raw_perm_pvalue:.3f}); GARCH not fitted: "
                                        "71 sessions")


def test_sources_folded_at_the_end(sensetime) -> None:  # noqa: ANN001
    _, folder = sensetime
    body = parse(folder / "report.html").find("body")
    last = body[-1]
    assert last.tag == "details" and text(last.find("summary")) == "Data and provenance"
    assert "bundled" in text(last)
    assert [text(a) for a in body.find("nav").iter("a")][-1] == "Data and provenance"


def test_every_table_scrolls_in_its_own_box(sensetime) -> None:  # noqa: ANN001
    _, folder = sensetime
    tree = parse(folder / "report.html")
    parents = {child: parent for parent in tree.iter() for child in parent}
    tables = list(tree.iter("table"))
    assert len(tables) > 10
    assert all("scroll" in (parents[t].get("class") or "").split() for t in tables)
    style = text(tree.find(".//style"))
    assert ".scroll { overflow-x: auto; max-width: 100%; }" in style


@pytest.mark.parametrize("width", [1400, 390])
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_page_never_scrolls_sideways_in_chromium(sensetime, tmp_path: Path,
                                                 width: int) -> None:  # noqa: ANN001
    """Headless Chromium at a desktop and a phone width: the page is no wider than the window
    (wide tables scroll inside their boxes). The page's width is written into its title; the
    test fails with ``.scroll`` set to ``overflow-x: visible``."""
    _, folder = sensetime
    page = tmp_path / "measure.html"
    html = (folder / "report.html").read_text(encoding="utf-8")
    probe = ("<script>addEventListener('load', () => { document.title = 'W=' + "
             "document.documentElement.scrollWidth + ',' + innerWidth; });</script></body>")
    page.write_text(html.replace("</body>", probe), encoding="utf-8")
    profile = tmp_path / "profile"
    run = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", f"--window-size={width},2000",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    found = run.stdout.split("<title>W=")[1:]
    assert found, run.stderr[-2000:]
    page_width, viewport = map(int, found[0].split("<", 1)[0].split(","))
    assert viewport <= max(width, 500)  # headless Chromium lays out at least 500 px wide
    assert page_width <= viewport


def test_many_firm_days_open_with_caar_and_tests(tmp_path: Path) -> None:
    result = batch_study(offline=True, tranches=["cornerstone"], bootstrap=0)
    folder = write_report(result, tmp_path / "batch")
    tree = parse(folder / "report.html")
    body = tree.find("body")
    sections = [child for child in body if child.tag in ("section", "details")]
    assert sections[0].get("class") == "headline"
    assert text(sections[1].find("h2")) == "Cross-event tests"
    headline = sections[0]
    header = [text(th) for th in headline.iter("th")]
    assert header[:3] == ["window", "CAAR", "N"] and "BMP t" in header
    rows = {text(tr[0]): [text(td) for td in tr] for tr in headline.iter("tr")
            if tr.find("td") is not None}
    # CAAR[-1,+1] = mean over firm-days (tranches of one day merged) of CAR[-1,+1]
    car = result.car[result.car["window"].astype(str) == "[-1,+1]"].merge(
        result.events[["event_id", "ticker", "day0"]], on="event_id")
    per_day = car.drop_duplicates(["ticker", "day0"])["car"].dropna()
    assert rows["[-1,+1]"][1] == f"{100 * per_day.mean():+.2f}%"
    assert rows["[-1,+1]"][2] == str(len(per_day))
    bmp = result.tests.query("group == 'all' and test == 'bmp'")
    bmp = bmp[bmp["window"].astype(str) == "[-1,+1]"].iloc[0]
    assert rows["[-1,+1]"][3].startswith(f"{bmp['statistic']:.2f} (p")
    assert np.isfinite(bmp["p_value"])
    assert body[-1].tag == "details"  # sources folded at the end


def test_headline_without_garch_says_nothing_about_volatility() -> None:
    from eventstudy.report.headline import headline_blocks

    result = lockup_study(["0020.HK"], offline=True, volatility=False)
    blocks = headline_blocks(result)
    assert isinstance(blocks[0], str) and "volatility" not in blocks[0]
    assert all("volatility ratio" not in b.frame.index for b in blocks[1:])  # type: ignore[union-attr]
    firm_days = result.events.drop_duplicates("day0")["volume_ratio_0"]
    assert [b.frame.loc["volume ratio day 0", "value"] for b in blocks[1:]] == [  # type: ignore[union-attr]
        f"{r:.2f}x" for r in firm_days]
