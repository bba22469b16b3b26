"""The ``mdwindow`` command end to end, in subprocesses (``python -m mdwindow``).

Every subprocess pays for importing pandas and numba (about two seconds), so
each command and the main errors run in a subprocess once, the subprocess
error cases start together, and variations go through ``cli.main`` in process.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from mdwindow import TumblingWindowSpec, cli, partition_balance, tumbling_windows
from mdwindow.cli.demo import load_sample
from mdwindow.synth import generate_ticks

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SMALL_CSV = DATA_DIR / "ticks_small.csv"
SAMPLE = DATA_DIR / "ticks_sample.parquet"
TIMEOUT = 120

# The options of most runs, as flags and as the library's keywords.
FLAGS = [
    *("--size", "5s", "--lag", "2s", "--lateness", "1s", "--scope", "key"),
    *("--key", "symbol", "--time", "ts", "--arrival-time", "recv_ts", "--agg", "ohlcv"),
]
KEYWORDS = {
    "lag": "2s",
    "allowed_lateness": "1s",
    "scope": "key",
    "key": "symbol",
    "time": "ts",
    "arrival_time": "recv_ts",
    "agg": "ohlcv",
}


def command(*args: object) -> list[str]:
    return [sys.executable, "-m", "mdwindow", *map(str, args)]


def start(*args: object, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(*args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return finish(start(*args, cwd=cwd))


def succeeded(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def printed_summary(stdout: str) -> dict[str, str]:
    """The summary table of stdout, label -> value as printed."""
    table = {}
    for label in cli.SUMMARY_LABELS.values():
        line = next(line for line in stdout.splitlines() if line.startswith(label + " "))
        table[label] = line[len(label) :].strip()
    return table


def assert_summary_printed(stdout: str, summary: dict) -> None:
    table = printed_summary(stdout)
    for name, label in cli.SUMMARY_LABELS.items():
        if name != "drop_rate":
            assert table[label] == f"{summary[name]:,}", label
    assert table["drop rate"] == f"{summary['drop_rate']:.4%}"


def read_csv_ticks(path: Path, times: tuple[str, ...] = ("ts", "recv_ts")) -> pd.DataFrame:
    frame = pd.read_csv(path)
    for column in times:
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[ns, UTC]")
    return frame


@pytest.fixture(scope="module")
def ticks_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short, stall-heavy tape with bad rows, so every status occurs."""
    ticks = generate_ticks(
        4_000, 6, seed=3, duration="2min", stall_rate=1 / 15, bad_row_rate=0.003
    )
    path = tmp_path_factory.mktemp("input") / "ticks.parquet"
    ticks.to_parquet(path)
    return path


# --- window -------------------------------------------------------------------


def test_window_parquet_matches_the_library(ticks_file: Path, tmp_path: Path) -> None:
    out, late_out = tmp_path / "windows.parquet", tmp_path / "late.parquet"
    done = succeeded(run("window", ticks_file, *FLAGS, "--out", out, "--late-out", late_out))

    ticks = pd.read_parquet(ticks_file)
    expected = tumbling_windows(ticks, "5s", **KEYWORDS)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected.windows)
    late = pd.read_parquet(late_out)
    assert late.index.name == "row"
    pd.testing.assert_frame_equal(late.rename_axis(None), expected.late)
    summary = expected.summary()
    assert summary["dropped"] > 0 and summary["late"] > 0 and summary["rejected"] > 0
    assert_summary_printed(done.stdout, summary)
    assert f"wrote {out} ({summary['windows']:,} windows)" in done.stdout
    assert done.stderr == ""  # no progress bar unless stderr is a terminal


def test_window_csv_in_and_out_in_small_batches(tmp_path: Path) -> None:
    out, late_out = tmp_path / "windows.csv", tmp_path / "late.csv"
    args = ("window", SMALL_CSV, *FLAGS, "--out", out, "--late-out", late_out)
    done = succeeded(run(*args, "--batch-rows", 333))

    expected = tumbling_windows(read_csv_ticks(SMALL_CSV), "5s", **KEYWORDS)
    times = ("window_start", "window_end", "emit_watermark", "emit_time")
    windows = read_csv_ticks(out, times)
    windows["timing"] = windows["timing"].astype(expected.windows["timing"].dtype)
    pd.testing.assert_frame_equal(windows, expected.windows)
    late = pd.read_csv(late_out, index_col="row")
    assert late.index.tolist() == expected.late.index.tolist()
    assert late["arrival"].tolist() == expected.late["arrival"].tolist()
    assert_summary_printed(done.stdout, expected.summary())


def test_reading_in_batches_gives_the_whole_file_result(ticks_file: Path, tmp_path: Path) -> None:
    out, late_out = tmp_path / "w.parquet", tmp_path / "l.parquet"
    outputs = ["--out", out, "--late-out", late_out]
    done = succeeded(
        run("window", ticks_file, *FLAGS, *outputs, "--batch-rows", 257, "--progress")
    )

    expected = tumbling_windows(pd.read_parquet(ticks_file), "5s", **KEYWORDS)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected.windows)
    pd.testing.assert_frame_equal(pd.read_parquet(late_out).rename_axis(None), expected.late)
    assert_summary_printed(done.stdout, expected.summary())
    # --progress draws the bar on stderr even though stderr is a pipe here.
    # (Text mode reads the bar's carriage returns as newlines.)
    assert done.stderr.lstrip().startswith("mdwindow: windowing [")
    assert done.stderr.endswith(f"100% {len(expected.trace):,} rows\n")


def test_file_not_in_arrival_order_is_windowed_whole(
    ticks_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shuffled = pd.read_parquet(ticks_file).sample(frac=1.0, random_state=0)
    path = tmp_path / "shuffled.parquet"
    shuffled.to_parquet(path, index=False)
    out = tmp_path / "w.parquet"
    # In process, like the other variations: each subprocess costs seconds of imports.
    assert cli.main(["window", str(path), *FLAGS, "--out", str(out), "--batch-rows", "500"]) == 0

    expected = tumbling_windows(pd.read_parquet(path), "5s", **KEYWORDS)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected.windows)
    assert "not sorted by 'recv_ts'" in capsys.readouterr().err


def test_window_options_reach_the_engine(
    ticks_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "w.pq"
    flags = [
        *("--size", "10s", "--offset", "3s", "--lag", "500ms", "--lateness", "2s"),
        *("--scope", "partition", "--partitions", "3", "--hash", "kafka"),
        *("--idle-timeout", "1s", "--emit", "updates", "--emit-partial"),
    ]
    args = ["window", str(ticks_file), *flags, "--out", str(out), "--batch-rows", "1000"]
    assert cli.main(args) == 0

    expected = tumbling_windows(
        pd.read_parquet(ticks_file),
        TumblingWindowSpec("10s", offset="3s", emit_partial=True),
        lag="500ms",
        allowed_lateness="2s",
        scope="partition",
        partitions=3,
        hash="kafka",
        idle_timeout="1s",
        emit="updates",
    )
    windows = pd.read_parquet(out)
    pd.testing.assert_frame_equal(windows, expected.windows)
    assert {"on_time", "late", "partial"} <= set(windows["timing"])
    assert "open" not in windows.columns  # --agg defaults to counts only
    assert_summary_printed(capsys.readouterr().out, expected.summary())


# --- partition ----------------------------------------------------------------


def check_balance_printed(stdout: str, keys: pd.DataFrame, partitions: int, hash: str) -> None:
    balance = partition_balance(keys, "symbol", partitions, hash=hash)
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["partition"])
    rows = [line.split() for line in lines[header + 1 : header + 1 + partitions]]
    assert [int(r[0]) for r in rows] == balance["partition"].tolist()
    assert [int(r[1].replace(",", "")) for r in rows] == balance["rows"].tolist()
    assert [int(r[2]) for r in rows] == balance["keys"].tolist()
    assert f"max/mean ratio: {balance.attrs['max_mean_ratio']:.3f}" in stdout
    assert f"missing key (in no partition): {balance.attrs['missing_keys']:,}" in stdout


def test_partition_prints_the_balance_table() -> None:
    done = succeeded(run("partition", SMALL_CSV, "--partitions", 3, "--hash", "kafka"))
    check_balance_printed(done.stdout, pd.read_csv(SMALL_CSV), 3, "kafka")


def test_partition_of_parquet_with_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["partition", str(SAMPLE)]) == 0
    check_balance_printed(capsys.readouterr().out, pd.read_parquet(SAMPLE), 8, "murmur3")


# --- demo ---------------------------------------------------------------------


def test_demo_writes_results_that_match_the_library(tmp_path: Path) -> None:
    done = succeeded(run("demo", "--out", "results", cwd=tmp_path))
    folder = tmp_path / "results"
    names = ["windows.parquet", "late.parquet", "summary.json", "summary.txt"]
    names += ["watermark.png", "late_drops.png", "report.html"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)
    assert (folder / "watermark.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (folder / "report.html").read_text()
    assert page.count("<img") >= 4 and "data:image/png;base64," in page
    for name in names:
        assert f"  {name}" in done.stdout

    ticks = pd.read_parquet(SAMPLE)
    expected = tumbling_windows(ticks, "5s", **KEYWORDS)
    summary = expected.summary()
    report = json.loads((folder / "summary.json").read_text())
    assert report["summary"] == summary
    assert report["input"] == str(SAMPLE)
    global_summary = tumbling_windows(ticks, "5s", **{**KEYWORDS, "scope": "global"}).summary()
    assert report["by_scope"] == {"global": global_summary, "key": summary}
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "windows.parquet"), expected.windows)
    late = pd.read_parquet(folder / "late.parquet")
    assert len(late) == summary["dropped"] > 0

    text = (folder / "summary.txt").read_text()
    assert text in done.stdout + "\n"
    assert_summary_printed(text, summary)
    scope_line = next(line for line in text.splitlines() if line.startswith("scope "))
    assert scope_line.startswith(
        f"scope global vs key: dropped {global_summary['dropped']:,} vs {summary['dropped']:,}"
    )
    assert done.stderr == ""


def test_report_writes_one_self_contained_html_file(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = succeeded(
        run("report", SMALL_CSV, "--size", "5s", "--lag", "1s", "--scope", "key",
            "--arrival-time", "recv_ts", "--out", out)
    )  # fmt: skip
    assert f"wrote {out}" in done.stdout
    page = out.read_text()
    assert page.count("<img") >= 4 and 'src="http' not in page
    ticks = pd.read_csv(SMALL_CSV, parse_dates=["ts", "recv_ts"])
    dropped = tumbling_windows(
        ticks, "5s", lag="1s", scope="key", arrival_time="recv_ts"
    ).summary()["dropped"]
    assert f"{dropped:,}" in page


class Tables(HTMLParser):
    """The cells of each table of a page, by table id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_report_honours_every_window_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ticks = read_csv_ticks(SMALL_CSV).rename(columns={"price": "px", "size": "qty"})
    source = tmp_path / "renamed.parquet"
    ticks.to_parquet(source)
    out = tmp_path / "report.html"
    flags = [
        *("--size", "5s", "--lag", "1s", "--scope", "key", "--arrival-time", "recv_ts"),
        *("--agg", "ohlcv", "--emit", "updates", "--price-column", "px", "--size-column", "qty"),
    ]
    assert cli.main(["report", str(source), *flags, "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out

    page = Tables()
    page.feed(out.read_text(encoding="utf-8"))
    parameters = dict(page.tables["parameters"])
    assert parameters["aggregates"] == "count, open, high, low, close, volume, vwap"
    assert parameters["price column"] == "px"
    assert parameters["size column"] == "qty"
    assert parameters["emit"] == "updates"
    header, *rows = page.tables["windows"]
    expected = tumbling_windows(
        ticks, "5s", lag="1s", scope="key", arrival_time="recv_ts",
        agg="ohlcv", emit="updates", price="px", size="qty",
    ).windows.head(len(rows))  # fmt: skip
    assert header == list(expected.columns)
    for column in ("open", "volume", "vwap"):
        assert column in header
    shown = {name: [row[header.index(name)] for row in rows] for name in header}
    assert shown["timing"] == expected["timing"].astype(str).tolist()
    assert shown["count"] == expected["count"].astype(str).tolist()
    assert [float(v) for v in shown["high"]] == pytest.approx(expected["high"].tolist())


def test_report_refuses_a_column_that_only_the_aggregates_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["report", str(SMALL_CSV), "--size", "5s", "--agg", "ohlcv", "--price-column", "px"]
    assert cli.main([*args, "--out", str(tmp_path / "r.html")]) == 2
    assert_one_line_error(capsys.readouterr().err, "column 'px' (--price-column)")


@pytest.mark.parametrize(
    ("flag", "text"), [("--size", "5"), ("--lag", "2"), ("--lateness", "1.5"), ("--offset", "-3")]
)
def test_duration_without_a_unit_is_refused(
    flag: str, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["window", str(SMALL_CSV), "--size", "5s", "--out", str(tmp_path / "w.csv")]
    args += [flag, text]
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_line_error(
        captured.err,
        f"argument {flag}: cannot read {text!r} as a duration; "
        "use a number with a unit, e.g. '5s', '250ms', '1min'",
    )
    assert not (tmp_path / "w.csv").exists()


def test_zero_needs_no_unit() -> None:
    args = cli.build_parser().parse_args(
        ["window", "t.csv", "--size", "5s", "--lag", "0", "--out", "w.csv"]
    )
    assert args.lag == "0"


def test_window_help_shows_the_defaults_of_the_options_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["window", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert re.search(r"--scope \{global,key,partition\} .*\(default global\)", text)
    assert re.search(r"--emit \{final,updates\} 'final': .*\(default final\)", text)
    assert "--lag LAG watermark lag (default 0s)" in text
    assert "--agg {count,ohlcv} aggregates: count only, or OHLCV and vwap (default count)" in text


def test_report_refuses_a_non_html_output(tmp_path: Path) -> None:
    assert (
        cli.main(["report", str(SMALL_CSV), "--size", "5s", "--out", str(tmp_path / "r.txt")]) == 2
    )


def test_demo_sample_arguments_are_those_of_make_samples() -> None:
    spec = importlib.util.spec_from_file_location("make_samples", DATA_DIR / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert cli.SAMPLE_ARGS == module.SAMPLES[SAMPLE.name]
    assert cli.SAMPLE_PATH == SAMPLE


def test_demo_generates_the_sample_when_the_file_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ticks, source = load_sample(tmp_path / "missing.parquet")
    pd.testing.assert_frame_equal(ticks, pd.read_parquet(SAMPLE))
    assert "generated" in source
    assert "generate_ticks(n=300000" in capsys.readouterr().err


# --- errors -------------------------------------------------------------------

GOOD = ["--size", "5s", "--out", "w.parquet"]
#: Run end to end: a subprocess each, all started together.
ERRORS = {
    "missing file": (["window", "nowhere.parquet", *GOOD], "'nowhere.parquet' does not exist"),
    "not parquet": (["window", "garbage.parquet", *GOOD], "cannot read 'garbage.parquet' as"),
    "bad duration": (
        ["window", "ticks.csv", "--size", "5s", "--lag", "2x", "--out", "w.parquet"],
        "argument --lag: cannot read '2x' as a duration",
    ),
    "missing column": (
        ["window", "ticks.csv", *GOOD, "--arrival-time", "recv"],
        "column 'recv' (--arrival-time) is not in 'ticks.csv'",
    ),
    "unknown option": (["window", "ticks.csv", *GOOD, "--sise", "5s"], "unrecognized"),
}
#: The same contract through ``cli.main`` in this process, where a case costs nothing.
MORE_ERRORS = {
    "unknown extension": (["window", "ticks.txt", *GOOD], "cannot tell the format"),
    "empty csv": (["window", "empty.csv", *GOOD], "cannot read 'empty.csv' as CSV"),
    "input is a folder": (["window", "folder.csv", *GOOD], "'folder.csv' is not a file"),
    "bad output format": (["window", "ticks.csv", "--size", "5s", "--out", "w.xlsx"], "--out"),
    "no output folder": (
        ["window", "ticks.csv", "--size", "5s", "--out", "nowhere/w.csv"],
        "the folder 'nowhere' does not exist",
    ),
    "same output twice": (
        ["window", "ticks.csv", *GOOD, "--late-out", "w.parquet"],
        "name the same file",
    ),
    # The options record refuses it; the message names the flag.
    "zero size": (["window", "ticks.csv", "--size", "0s", "--out", "w.csv"], "--size: got 0"),
    "bad scope": (["window", "ticks.csv", *GOOD, "--scope", "venue"], "invalid choice"),
    "partition scope": (["window", "ticks.csv", *GOOD, "--scope", "partition"], "--partitions"),
    "idle global": (["window", "ticks.csv", *GOOD, "--idle-timeout", "1s"], "--idle-timeout"),
    "zero partitions": (["window", "ticks.csv", *GOOD, "--partitions", "0"], ">= 1"),
    "engine refuses a column": (["window", "ticks.csv", *GOOD, "--time", "price"], "'price'"),
    "engine refuses a value": (["window", "ticks.csv", *GOOD, "--lag=-1s"], "lag"),
    "text time": (["window", "ticks.csv", *GOOD, "--time", "venue"], "column 'venue' (--time)"),
    "no size": (["window", "ticks.csv", "--out", "w.csv"], "required: --size"),
    "no command": ([], "required: COMMAND"),
    "partition key": (["partition", "ticks.csv", "--key", "sym"], "column 'sym' (--key)"),
    "demo into a file": (["demo", "--out", "ticks.csv"], "is not a folder"),
}


def error_folder(folder: Path) -> Path:
    (folder / "ticks.csv").write_bytes(SMALL_CSV.read_bytes())
    (folder / "garbage.parquet").write_text("not a parquet file")
    (folder / "empty.csv").write_text("")
    (folder / "folder.csv").mkdir()
    return folder


@pytest.fixture(scope="module")
def error_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess]:
    folder = error_folder(tmp_path_factory.mktemp("errors"))
    processes = {name: start(*args, cwd=folder) for name, (args, _) in ERRORS.items()}
    return {name: finish(process) for name, process in processes.items()}


def assert_one_line_error(stderr: str, expected: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("mdwindow: error: ")
    assert expected in lines[0]


@pytest.mark.parametrize("case", ERRORS)
def test_error_is_one_line_and_status_2(
    case: str, error_runs: dict[str, subprocess.CompletedProcess]
) -> None:
    done = error_runs[case]
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert_one_line_error(done.stderr, ERRORS[case][1])


@pytest.mark.parametrize("case", MORE_ERRORS)
def test_more_errors_in_process(
    case: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(error_folder(tmp_path))
    args, expected = MORE_ERRORS[case]
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_line_error(captured.err, expected)
    assert not (tmp_path / "w.parquet").exists() and not (tmp_path / "w.csv").exists()


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mdwindow ")
    for subcommand in ("window", "partition", "demo"):
        assert cli.main([subcommand, "--help"]) == 0
        assert "--batch-rows" not in capsys.readouterr().out


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_output_that_is_the_input_is_refused_before_any_work(
    tmp_path, monkeypatch, capsys, suffix
):
    source = tmp_path / f"IN{suffix}"
    frame = pd.read_csv(SMALL_CSV).head(50)
    frame.to_csv(source, index=False) if suffix == ".csv" else frame.to_parquet(source)
    before = source.read_bytes()
    monkeypatch.chdir(tmp_path)
    for outputs in (
        ["--out", str(source)],
        ["--out", f"./IN{suffix}"],
        ["--out", str(tmp_path / "w.parquet"), "--late-out", str(source)],
    ):
        assert cli.main(["window", f"IN{suffix}", "--size", "5s", *outputs]) == 2
        assert "is the input file" in capsys.readouterr().err
    link = tmp_path / f"link{suffix}"
    link.symlink_to(source)
    assert cli.main(["window", str(source), "--size", "5s", "--out", str(link)]) == 2
    assert source.read_bytes() == before


def test_report_checks_its_output_before_any_work(tmp_path, monkeypatch, capsys):
    import mdwindow.report as report

    def never(*args, **kwargs):
        raise AssertionError("the report was computed")

    monkeypatch.setattr(report, "write_report", never)
    folder = tmp_path / "r.html"
    folder.mkdir()
    for out in (folder, tmp_path / "missing" / "r.html"):
        assert cli.main(["report", str(SMALL_CSV), "--size", "5s", "--out", str(out)]) == 2
        assert "--out" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, advice",
    [
        (["--time", "price"], "--time"),
        (["--agg", "ohlcv", "--size-column", "venue"], "--size-column"),
    ],
)
def test_errors_give_command_line_advice_not_python(tmp_path, capsys, flags, advice):
    out = tmp_path / "w.parquet"
    assert cli.main(["window", str(SMALL_CSV), "--size", "5s", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert advice in err and "pd." not in err and "frame[" not in err and "ticks[" not in err
