"""The HTML report: one self-contained file with the figures and tables, rendered by Chromium."""

from __future__ import annotations

import base64
import io
import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mdwindow import tumbling_windows  # noqa: E402
from mdwindow.plotting import STATUS_COLORS  # noqa: E402
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
        "dropped ticks",
        "partition balance",
        "lag trade-off",
    ]
    for img in page.images:
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        width, height = png_size(base64.b64decode(img["src"][len(prefix) :]))
        assert width >= 800 and height >= 350


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
    assert sweep_rows[0][:3] == ["lag", "lateness", "rows"]
    assert len(sweep_rows) == 1 + 4 * 2
    lags = [row[0] for row in sweep_rows[1:]]
    assert lags == ["0s", "0s", "100ms", "100ms", "1s", "1s", "2s", "2s"]
    assert "5,000 rows from ticks_small.csv" in report.read_text(encoding="utf-8")


def test_report_without_a_key():
    ticks = pd.DataFrame(
        {"ts": pd.to_datetime([0, 1, 2, 1, 0, 5, 0], unit="s", utc=True), "price": 1.0}
    )
    page = parse(render_report(ticks, "2s", key=None, lag="1s"))
    assert "Partition balance" not in page.headings
    assert dict(page.tables["parameters"])["key column"] == "- (one stream)"
    assert len(page.images) == 3  # watermark, drops, trade-off; too few rows for a zoom


def test_default_grids_centre_on_the_chosen_policy(small):
    page = parse(render_report(small.iloc[:500], "1s", lag="200ms", allowed_lateness="100ms"))
    rows = page.tables["sweep"][1:]
    lags = sorted({row[0] for row in rows}, key=lambda v: pd.Timedelta(v))
    latenesses = sorted({row[1] for row in rows}, key=lambda v: pd.Timedelta(v))
    assert lags == ["0s", "50ms", "100ms", "200ms", "400ms", "800ms"]
    assert latenesses == ["0s", "100ms", "400ms"]


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
    # The first figure is in view: its emission markers are a colour only figures use.
    pixels = {tuple(c) for c in colours}
    emitted = (0x00, 0x9E, 0x73)
    assert emitted in pixels
    for status in ("on_time", "dropped"):
        rgb = tuple(int(STATUS_COLORS[status][i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in pixels, status
