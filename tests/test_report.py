"""The HTML report: one self-contained file with the figures and tables, rendered by Chromium."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pytest  # noqa: E402

from mdwindow import recommend, sweep, tumbling_windows  # noqa: E402
from mdwindow.plotting import STATUS_COLORS, duration_text  # noqa: E402
from mdwindow.recommend.choice import percent_text  # noqa: E402
from mdwindow.recommend.result import latency_text  # noqa: E402
from mdwindow.report import render_report, write_report  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OPTIONS = {
    "lag": "100ms",
    "allowed_lateness": "250ms",
    "scope": "key",
    "arrival_time": "recv_ts",
    "lags": ["0s", "100ms", "1s", "2s"],
    "lateness_grid": ["0s", "250ms"],
}


class Page(HTMLParser):
    """The parts of the report the tests look at: images, tables, headings, links."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.headings: list[str] = []
        self.external: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if (attrs.get(name) or "").startswith(("http:", "https:", "//", "file:")):
                self.external.append(attrs[name])
        if tag in ("script", "link", "iframe"):
            self.external.append(tag)
        if tag == "img":
            self.images.append(attrs)
        elif tag == "table":
            self._table = attrs.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "h2":
            self._heading = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "h2" and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return pd.read_csv(DATA / "ticks_small.csv", parse_dates=["ts", "recv_ts"])


@pytest.fixture(scope="module")
def report(small, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "nested" / "report.html"
    path = write_report(small, "1s", out, source="ticks_small.csv", **OPTIONS)
    assert path == out
    return path


def test_one_self_contained_file_with_every_section(report):
    page = parse(report.read_text(encoding="utf-8"))
    assert page.external == []
    assert page.headings == [
        "Parameters",
        "Summary",
        "Recommended lag and lateness",
        "Watermark",
        "Late drops",
        "Partition balance",
        "Lag trade-off",
        "First windows",
    ]
    alts = [img["alt"] for img in page.images]
    assert alts == [
        "watermark over the whole input",
        "watermark around the densest burst of dropped ticks",
        "drop rate per key",
        "how late the dropped ticks were",
        "dropped ticks over time",
        "partition balance",
        "lag trade-off",
    ]
    for img in page.images:
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        width, height = png_size(base64.b64decode(img["src"][len(prefix) :]))
        # Side by side (two in a row of the page) or the page's width.
        assert 500 <= width <= 1100 and height >= 350, (img["alt"], width, height)


def test_summary_and_parameter_tables(report, small):
    page = parse(report.read_text(encoding="utf-8"))
    result = tumbling_windows(
        small, "1s", lag="100ms", allowed_lateness="250ms", scope="key", arrival_time="recv_ts"
    )
    summary = dict(page.tables["summary"])
    expected = result.summary()
    for name in ("rows", "on_time", "late", "dropped", "rejected", "windows", "pending"):
        assert summary[name] == f"{expected[name]:,}", name
    assert summary["drop_rate"] == f"{expected['drop_rate']:.4%}"
    parameters = dict(page.tables["parameters"])
    assert parameters["window size"] == "1s"
    assert parameters["lag"] == "100ms"
    assert parameters["allowed lateness"] == "250ms"
    assert parameters["watermark scope"] == "key"
    assert parameters["arrival order"] == "column recv_ts"
    sweep_rows = page.tables["sweep"]
    assert sweep_rows[0][:6] == [
        "lag", "lateness", "drop_rate", "dropped", "late_accepted", "latency_median",
    ]  # fmt: skip
    assert len(sweep_rows) == 1 + 4 * 2
    lags = [row[0] for row in sweep_rows[1:]]
    assert lags == ["0s", "0s", "100ms", "100ms", "1s", "1s", "2s", "2s"]
    text = report.read_text(encoding="utf-8")
    assert "5,000 rows from ticks_small.csv" in text
    assert "Every run has 5,000 rows" in text


def test_report_without_a_key():
    ticks = pd.DataFrame(
        {"ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True), "price": 1.0}
    )
    page = parse(render_report(ticks, "2s", key=None, lag="1s"))
    assert "Partition balance" not in page.headings
    assert dict(page.tables["parameters"])["key column"] == "- (one stream)"
    # Recommendation, watermark, how late, drops over time, trade-off; too few rows for a
    # zoom, no key to rate drops by.
    assert len(page.images) == 5


def test_default_grids_centre_on_the_chosen_policy(small):
    page = parse(render_report(small.iloc[:500], "1s", lag="200ms", allowed_lateness="100ms"))
    rows = page.tables["sweep"][1:]
    lags = sorted({row[0] for row in rows}, key=lambda v: pd.Timedelta(v))
    latenesses = sorted({row[1] for row in rows}, key=lambda v: pd.Timedelta(v))
    assert lags == ["0s", "50ms", "100ms", "200ms", "400ms", "800ms"]
    assert latenesses == ["0s", "100ms", "400ms"]


def test_the_windows_table_shows_the_aggregates(small):
    text = render_report(small.iloc[:800], "1s", agg="ohlcv", lag="100ms")
    page = parse(text)
    header = page.tables["windows"][0]
    assert header[:10] == [
        "symbol", "window_start", "window_end", "open", "high", "low", "close", "volume",
        "vwap", "count",
    ]  # fmt: skip
    assert "<th>window_<wbr>start</th>" in text  # narrow headers, the frames' names
    first = page.tables["windows"][1]
    assert first[1].count(":") == 2 and "-" not in first[1]  # a time of day
    prices = [row[3] for row in page.tables["windows"][1:]]
    assert len({len(p.split(".")[1]) for p in prices}) == 1  # one number of decimals
    assert "aggregates open, high, low, close, volume, vwap" in text
    assert "times of day in UTC on 2024-03-01" in text
    plain = render_report(small.iloc[:800], "1s", lag="100ms")
    assert "no aggregates (agg=None)" in plain
    assert parse(plain).tables["windows"][0][:4] == [
        "symbol", "window_start", "window_end", "count",
    ]  # fmt: skip


def test_every_figure_states_the_parameters(small):
    """The report hands its options to every plot: each figure's heading states them."""
    from unittest import mock

    import mdwindow.report.sections as sections

    headings = []
    real = sections.figure_png

    def keep(draw, size):
        def drawn(figure):
            draw(figure)
            for ax in figure.axes:
                headings.extend(t.get_text() for t in ax.texts if t.get_gid() == "heading")
            headings.append(figure.get_supxlabel())

        return real(drawn, size)

    with mock.patch.object(sections, "figure_png", keep):
        render_report(small.iloc[:3_000], "1s", scope="key", lag="100ms", allowed_lateness="250ms")
    stated = "window 1s · lag 100ms · allowed lateness 250ms · scope key"
    # Watermark, drop rate, how late, drops over time: the run's parameters.
    assert sum(stated in text for text in headings) >= 4
    assert any(text.startswith("key symbol · 8 partitions") for text in headings)
    assert any(text.startswith("window 1s · scope key · latency") for text in headings)


def test_text_is_escaped(small):
    text = render_report(small.iloc[:200], "1s", title="<b>Q&A</b>", source="a<b>.csv")
    assert "<b>Q&A</b>" not in text
    assert "&lt;b&gt;Q&amp;A&lt;/b&gt;" in text


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.browser
def test_report_renders_in_headless_chromium(report, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("MDWINDOW_REQUIRE_BROWSER"):
            pytest.fail("MDWINDOW_REQUIRE_BROWSER is set but no chromium is on PATH")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    shot = tmp_path / "report.png"
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        report.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert shot.exists(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert png_size(data) == (1280, 2000)

    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    colours = np.unique(image.reshape(-1, 3), axis=0)
    # A text-only page has a few hundred shades of grey; the figures add far more.
    assert len(colours) > 1_000, len(colours)
    # The first figure is in view: its tick markers have the status colours.
    pixels = {tuple(c) for c in colours}
    for status in ("on_time", "dropped"):
        rgb = tuple(int(STATUS_COLORS[status][i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in pixels, status


@pytest.mark.browser
def test_the_demo_report_reads_at_1400_px(tmp_path_factory, tmp_path):
    """The report of ``mdwindow demo``, full page at 1400 px: nothing wider than the window,
    every figure at its own size (never shrunk), no table cut off. The screenshot stays in
    this test's tmp_path (``demo-report-1400.png``), for CI to keep and people to look at."""
    browser = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if browser is None or sync_playwright is None:
        if os.environ.get("MDWINDOW_REQUIRE_BROWSER"):
            pytest.fail("MDWINDOW_REQUIRE_BROWSER is set but chromium or Playwright is missing")
        pytest.skip("needs chromium and Playwright for Python (the dev extra); CI has both")
    from tests.figure_checks import demo_run

    out, _ = demo_run(tmp_path_factory.getbasetemp())
    shot = tmp_path / "demo-report-1400.png"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=browser,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
            ],
        )  # fmt: skip
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 900})
            page.goto((out / "report.html").resolve().as_uri())
            page.wait_for_load_state("load")
            page.screenshot(path=str(shot), full_page=True)
            layout = page.evaluate(
                """() => ({
                    pageWidth: document.documentElement.scrollWidth,
                    images: [...document.images].map(img => ({
                        alt: img.alt, natural: img.naturalWidth, shown: img.clientWidth,
                        top: img.getBoundingClientRect().top})),
                    tables: [...document.querySelectorAll(".wide")].map(div => ({
                        id: div.firstElementChild.id, scroll: div.scrollWidth,
                        client: div.clientWidth})),
                })"""
            )
        finally:
            chromium.close()
    assert shot.exists()
    width, height = png_size(shot.read_bytes())
    assert width == 1400 and height > 3000
    assert layout["pageWidth"] <= 1400, layout["pageWidth"]
    assert len(layout["images"]) == 8
    for image in layout["images"]:
        assert image["natural"] > 0, image  # decoded
        assert image["shown"] >= 0.95 * image["natural"], image  # not shrunk: text stays legible
    # The drop rate per key and how late they were sit side by side.
    beside = {image["alt"]: image["top"] for image in layout["images"]}
    assert beside["drop rate per key"] == beside["how late the dropped ticks were"]
    for table in layout["tables"]:
        assert table["scroll"] <= table["client"], table  # no column hidden

    from PIL import Image

    pixels = {tuple(c) for c in np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)}
    for status in ("on_time", "late", "dropped"):
        rgb = tuple(int(STATUS_COLORS[status][i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in pixels, status


# -- the recommendation section ---------------------------------------------------


def recommended_column(page: Page) -> dict[str, str]:
    rows = page.tables["recommendation"]
    assert rows[0] == ["", "recommended", "this run"]
    return {name: chosen for name, chosen, _ in rows[1:]}


def assert_shows(page: Page, rec, clock: str) -> None:
    shown = recommended_column(page)
    assert shown == {
        "lag": duration_text(rec.lag),
        "allowed lateness": duration_text(rec.allowed_lateness),
        "drop rate": percent_text(rec.drop_rate),
        "late accepted": percent_text(rec.late_accepted_rate),
        "complete windows": percent_text(rec.completeness),
        f"latency median ({clock})": latency_text(rec.latency_median),
        "latency p99": latency_text(rec.latency_p99),
    }


@pytest.mark.parametrize("max_drop_rate", [None, 0.01, 0.0])
def test_the_recommendation_is_what_recommend_gives(small, max_drop_rate):
    run = {"lag": "100ms", "allowed_lateness": "250ms", "scope": "key", "arrival_time": "recv_ts"}
    target = {} if max_drop_rate is None else {"max_drop_rate": max_drop_rate}
    text = render_report(small, "1s", **run, **target)
    rec = recommend(small, "1s", scope="key", arrival_time="recv_ts", **target)
    page = parse(text)
    assert_shows(page, rec, "arrival-time")
    # The forcing keys, most dropping first, with their counts at the next smaller wait.
    assert rec.forcing_keys is not None and len(rec.forcing_keys) >= 1
    forcing = page.tables["forcing_keys"]
    assert forcing[0] == ["symbol", "drop rate there"]
    assert [row[0] for row in forcing[1:]] == rec.forcing_keys["symbol"].head(10).tolist()
    first = rec.forcing_keys.iloc[0]
    assert forcing[1][1] == (
        f"{percent_text(first['drop_rate'])} ({first['dropped']:,} of {first['rows']:,} rows)"
    )
    assert f"{duration_text(rec.forcing_wait)}, {len(rec.forcing_keys):,} key" in text
    # This run's own point, from the trade-off grid.
    grid = sweep(small, "1s", lags="100ms", lateness="250ms", scope="key", arrival_time="recv_ts")
    own = {name: mine for name, _, mine in page.tables["recommendation"][1:]}
    assert own["lag"] == "100ms" and own["drop rate"] == percent_text(grid["drop_rate"].iloc[0])
    assert own["latency p99"] == latency_text(grid["latency_p99"].iloc[0])
    assert "recommendation frontier" in [img["alt"] for img in page.images]
    assert "derived from the data" in text
    assert f"max_drop_rate = {rec.max_drop_rate:g}" in text


def test_the_recommendation_with_a_global_scope_and_without_a_key(small):
    ticks = small.iloc[:2_000]
    rec = recommend(ticks, "1s", scope="global", key=None)
    page = parse(render_report(ticks, "1s", key=None, lag="50ms"))
    assert_shows(page, rec, "event-time")
    assert "forcing_keys" not in page.tables


def test_given_grids_are_the_recommendation_grids_too(small):
    lags = ["0s", "1s", "5s", "8s"]
    text = render_report(small, "1s", scope="key", lags=lags, max_drop_rate=0.05)
    rec = recommend(small, "1s", scope="key", lags=lags, latenesses=None, max_drop_rate=0.05)
    page = parse(text)
    assert_shows(page, rec, "event-time")
    assert "Read off the lags given for this report and latenesses derived from the data" in text
    # The trade-off table keeps its own grid: the lags given, the default latenesses.
    shown = [row[0] for row in page.tables["sweep"][1:]]
    assert list(dict.fromkeys(shown)) == ["0s", "1s", "5s", "8s"]
    assert len(shown) == 4 * 2  # lateness 0 and a middle lag, as without a lateness


def test_no_point_meeting_the_target_is_said(report, small):
    text = report.read_text(encoding="utf-8")
    page = parse(text)
    assert "recommendation" not in page.tables
    assert "recommendation frontier" not in [img["alt"] for img in page.images]
    best = sweep(small, "1s", lags=OPTIONS["lags"], lateness=OPTIONS["lateness_grid"],
                 scope="key", arrival_time="recv_ts")["drop_rate"].min()  # fmt: skip
    assert (
        "No point of the grid meets the target:</strong> none drops at most 0.1% of the valid "
        f"rows. The least it drops is {percent_text(best)}, at lag 2s and allowed lateness 250ms."
    ) in text
    with pytest.raises(ValueError, match="no point of the grid"):
        recommend(small, "1s", scope="key", arrival_time="recv_ts", lags=OPTIONS["lags"],
                  latenesses=OPTIONS["lateness_grid"])  # fmt: skip
    every_row_rejected = small.assign(ts=pd.NaT).iloc[:50]
    assert "no valid rows to judge" in render_report(every_row_rejected, "1s", lag="1s")


def test_one_pass_over_the_rows_for_both_grids(small):
    from unittest import mock

    import mdwindow.report.recommendation as section
    from mdwindow.report.recommendation import grid_pass

    real = section.scan_rows
    with mock.patch.object(section, "scan_rows", side_effect=real) as scans:
        render_report(small.iloc[:1_000], "1s", lag="100ms", scope="key")
    assert scans.call_count == 1
    # The trade-off grid of the pass is sweep's, value for value, attrs too.
    from mdwindow.core.options import WindowOptions

    cfg = WindowOptions.build("1s", scope="key", arrival_time="recv_ts")
    lags, latenesses = [0, 10**8, 10**9], [0, 5 * 10**8]
    grids = grid_pass(small, cfg, lags, latenesses, max_drop_rate=1e-3)
    expected = sweep(small, "1s", lags=pd.to_timedelta(lags), lateness=pd.to_timedelta(latenesses),
                     scope="key", arrival_time="recv_ts")  # fmt: skip
    pd.testing.assert_frame_equal(grids.tradeoff, expected)
    assert grids.tradeoff.attrs == expected.attrs


def test_the_report_takes_polars_and_arrow_ticks(small):
    pl = pytest.importorskip("polars")
    ticks = small.iloc[:1_500]
    expected = render_report(ticks, "1s", lag="100ms", scope="key", title="t")
    generated = re.compile(r"generated [^&<]* by")
    for given in (pl.from_pandas(ticks), pa.Table.from_pandas(ticks, preserve_index=False)):
        text = render_report(given, "1s", lag="100ms", scope="key", title="t")
        assert parse(text).tables == parse(expected).tables
        assert generated.sub("", text).count("<img") == generated.sub("", expected).count("<img")


def test_max_drop_rate_is_checked(small):
    with pytest.raises(ValueError, match="max_drop_rate"):
        render_report(small.iloc[:100], "1s", max_drop_rate=2.0)


def test_the_cli_report_takes_max_drop_rate(tmp_path, capsys):
    from mdwindow import cli

    out = tmp_path / "report.html"
    args = ["report", str(DATA / "ticks_small.csv"), "--size", "1s", "--scope", "key",
            "--arrival-time", "recv_ts", "--out", str(out)]  # fmt: skip
    assert cli.main([*args, "--max-drop-rate", "1%"]) == 0
    small = pd.read_csv(DATA / "ticks_small.csv", parse_dates=["ts", "recv_ts"])
    rec = recommend(small, "1s", scope="key", arrival_time="recv_ts", max_drop_rate=0.01)
    assert_shows(parse(out.read_text(encoding="utf-8")), rec, "arrival-time")
    assert cli.main([*args, "--max-drop-rate", "lots"]) == 2
    assert cli.main([*args, "--max-drop-rate", "150%"]) == 2
    assert "--max-drop-rate: got 1.5; give a share between 0 and 1" in capsys.readouterr().err
