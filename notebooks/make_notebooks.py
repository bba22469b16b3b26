"""Write the example notebooks from the cell lists below (outputs come from running them).

Usage::

    python notebooks/make_notebooks.py [NAME ...]   # then execute, e.g.
    jupyter nbconvert --to notebook --execute --inplace notebooks/04_incremental_replay.ipynb

A notebook with widgets (02) is executed without storing their state, which
JupyterLab ignores anyway (the tuner's saved output carries a picture instead)::

    jupyter nbconvert --to notebook --execute --inplace \
        --ExecutePreprocessor.store_widget_state=False notebooks/02_tuning_lag_and_lateness.ipynb

Keeping the cells here makes the stories easy to review and edit as text.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}


def notebook(name: str, cells: list[tuple[str, str]]) -> None:
    NOTEBOOKS[name] = cells


SETUP = """from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import mdwindow as mw

data = Path("..") / "data" if Path("../data").exists() else Path("data")
ticks = pd.read_parquet(data / "ticks_sample.parquet")"""

notebook(
    "01_quickstart",
    [
        (
            "md",
            """# Quick start: from ticks to windows, with every tick accounted for

The bundled sample is 30 minutes of 20 symbols: 300,000 trades with their
exchange time `ts` and the time they reached us, `recv_ts`. Most arrive a few
milliseconds after they happened; one venue's feed runs 1.5 s behind; now and
then a feed stalls for seconds and then delivers a burst of stale ticks. That
is what makes late data.""",
        ),
        ("code", SETUP + "\nticks.head()"),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
print(len(ticks), "ticks,", ticks["symbol"].nunique(), "symbols")
print((ticks["recv_ts"] - ticks["ts"]).describe().loc[["50%", "max"]].to_string())""",
        ),
        (
            "md",
            """## Partition by symbol

Keys go to `murmur3(key) mod P`, hashing each distinct symbol once: the same
partition in every process and on every machine. `hash="kafka"` gives the
partition Kafka's default partitioner would choose.""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
balance = mw.partition_balance(ticks, key="symbol", partitions=4)
print(balance.to_string(index=False))
print("max/mean:", round(balance.attrs["max_mean_ratio"], 3))""",
        ),
        (
            "code",
            """fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
mw.plot_partition_balance(ticks, key="symbol", partitions=4, ax=ax)
plt.show()""",
        ),
        (
            "md",
            """## Window

Five-second windows per symbol (`scope="key"`), a watermark 2 s behind the
latest event time of each symbol, and 1 s of allowed lateness on top. Arrival
order is `recv_ts`.""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
options = dict(lag="2s", allowed_lateness="1s", scope="key", agg="ohlcv",
               arrival_time="recv_ts")
result = mw.tumbling_windows(ticks, "5s", **options)
result.summary()""",
        ),
        (
            "md",
            """## Read the result frames

`windows` holds the bars in the order they were emitted: `emit_row` is the
arrival position of the tick after which the window closed, `emit_watermark`
the watermark then, and `emit_time` its arrival time.""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
columns = ["symbol", "window_start", "open", "high", "low", "close", "volume", "count",
           "late_count", "emit_row"]
print(result.windows[columns].head(6).to_string(index=False))""",
        ),
        (
            "md",
            """`late` has every dropped tick with the watermark that dropped it and by
how much it missed (`late_by`); `rejected` the rows with no time or no
symbol; `trace` one row per input tick.""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
print(result.late[["symbol", "ts", "arrival", "window_end", "watermark", "late_by"]]
      .head(5).to_string(index=False))
print(result.rejected["reason"].value_counts().to_string())
print(result.trace["status"].value_counts().to_string())""",
        ),
        (
            "md",
            """Every tick is in exactly one place: a window, a pending window, `late`
or `rejected`.""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
accounted = (result.windows["count"].sum() + result.pending["count"].sum()
             + len(result.late) + len(result.rejected))
print(accounted == len(ticks))""",
        ),
        (
            "md",
            """## See the watermark

Event time against arrival for the three busiest symbols, a panel each (each
has its own watermark), zoomed on the densest burst of drops: the watermark
trails the latest event time by the lag, a window closes when the watermark
passes its end plus the lateness, and the crosses are the ticks that came too
late. Rings are ticks that arrived out of order but still in time. The x axis
counts arrival rows: a stalled feed delivers its backlog within a few
milliseconds, which an arrival-time axis would squeeze into one vertical line
(`x="time"` draws it so). Passing the run's `options` puts them in the figure.""",
        ),
        (
            "code",
            """import numpy as np

from mdwindow.plotting import plot_watermark_panels

# The densest burst of drops, found in the data: 4,000 arrival rows around the
# 1,000-row stretch that holds the most dropped ticks.
dropped_rows = result.late["arrival"].to_numpy()
busiest_stretch = np.bincount(dropped_rows // 1_000).argmax()
first_row = max(0, busiest_stretch * 1_000 - 1_500)
arrival_range = (first_row, first_row + 4_000)
shown = ((dropped_rows >= arrival_range[0]) & (dropped_rows < arrival_range[1])).sum()
assert shown > 0, "the zoom must show dropped ticks"

fig = plt.figure(figsize=(11, 7.5), layout="constrained")
plot_watermark_panels(result, ticks, busiest=3, arrival_time="recv_ts",
                      arrival_range=arrival_range, options=options, figure=fig)
plt.show()
print(f"rows {arrival_range[0]:,} to {arrival_range[1]:,}: {shown} dropped ticks shown")""",
        ),
        (
            "md",
            """Where was the lag too small? The drop rate per symbol (a share of its
ticks, so that the busiest symbol does not win by volume), and how far past
their window's end plus the lateness the dropped ticks came.""",
        ),
        (
            "code",
            """fig, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
result.plot.late_drops(by="key", options=options, ax=axes[0])
result.plot.late_drops(by="late_by", options=options, ax=axes[1])
plt.show()""",
        ),
        (
            "md",
            """## polars in, polars out

Ticks held in polars (or in an Arrow table, or anything that speaks the Arrow
stream interface) go in as they are, and the result frames come back in the
same library. Only the columns the windows read are converted; the key keeps
its type (`String`, `Categorical`, `Enum`).""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
import polars as pl

ticks_pl = pl.from_pandas(ticks)
bars = mw.tumbling_windows(
    ticks_pl, "5s", lag="2s", allowed_lateness="1s", scope="key",
    agg="ohlcv", arrival_time="recv_ts",
)
print(type(bars.windows).__name__, bars.summary() == result.summary())
columns = ["symbol", "window_start", "open", "close", "volume", "count"]
print(bars.windows.select(columns).head(4))""",
        ),
        (
            "md",
            """polars frames have no index: `late` and `rejected` start with a `row`
column, the tick's position in the input, and keep every input column in its
own type.""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
print(bars.late.select("row", "symbol", "venue", "arrival", "late_by").head(4))""",
        ),
        (
            "md",
            """`output=` asks for another library (`"pandas"`, `"polars"` or
`"arrow"`), and `result.to(...)` converts a result you already have.
`sweep`, `hash_partition` and `partition_balance` follow the same rule.""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
table = ticks_pl.to_arrow()
grid = mw.sweep(table, "5s", lags=["1s", "2s"], lateness="1s", scope="key",
                arrival_time="recv_ts")
print(type(grid).__name__, grid.num_rows, grid.column("dropped").to_pylist())
in_pandas = mw.tumbling_windows(ticks_pl, "5s", lag="2s", scope="key", output="pandas")
print(type(in_pandas.windows).__name__, type(bars.to("arrow").windows).__name__)
parts = mw.hash_partition(ticks_pl.drop_nulls("symbol"), partitions=2)
print([type(part).__name__ for part in parts])""",
        ),
    ],
)

notebook(
    "02_tuning_lag_and_lateness",
    [
        (
            "md",
            """# Tuning lag and allowed lateness

A longer lag waits for stragglers: fewer dropped ticks, but every window is
emitted later. Allowed lateness keeps windows open for corrections after the
watermark has passed, at the price of revised results. The right setting is a
trade-off between **completeness** and **latency**, and it depends on the
feed. `sweep` computes the whole grid from one pass over the data; each row
equals a separate `tumbling_windows` call.""",
        ),
        ("code", SETUP),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
grid = mw.sweep(
    ticks, "5s",
    lags=["0s", "100ms", "250ms", "500ms", "1s", "2s", "5s"],
    lateness=["0s", "1s", "5s"],
    scope="key", arrival_time="recv_ts",
)
view = grid[["lag", "lateness", "dropped", "drop_rate", "incomplete_windows",
             "latency_median", "latency_p99"]]
print(view.to_string(index=False))""",
        ),
        (
            "md",
            """Drops fall quickly up to the venue lag (1.5 s) and then slowly: what is
left comes from feed stalls of several seconds. Latency grows with the lag
plus the lateness. Check one grid point against a plain windowing run:""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
one = mw.tumbling_windows(ticks, "5s", lag="1s", allowed_lateness="1s", scope="key",
                          arrival_time="recv_ts")
row = grid[(grid["lag"] == pd.Timedelta("1s")) & (grid["lateness"] == pd.Timedelta("1s"))]
print(one.summary()["dropped"], int(row["dropped"].iloc[0]))""",
        ),
        (
            "code",
            """fig, ax = plt.subplots(figsize=(8, 4))
mw.plot_lag_tradeoff(grid, ax=ax)
plt.show()""",
        ),
        (
            "md",
            """## The tuner

Sliders for lag and lateness, a window size menu, a scope toggle and a symbol
picker. Each move redraws the picked symbol's watermark, the late drops and the
trade-off with the current point marked (red star). The black diamond is the
recommended point: of the sliders' settings, the one with the smallest median
latency that drops at most `max_drop_rate` (0.1% by default) of the ticks, as
`mw.recommend` picks it; **jump to recommended** moves the sliders there. What
you settle on is kept: `tuner.policy` and `tuner.result` carry it back into the
notebook. (Run the notebook to use the tuner: the saved output is a picture.)""",
        ),
        (
            "code",
            """from mdwindow.widgets import tune

tuner = tune(ticks, "5s", lag="1s", scope="key", arrival_time="recv_ts")
tuner""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
tuner.set(lag="2s", allowed_lateness="1s")
print(tuner.policy)
print({k: tuner.summary[k] for k in ("dropped", "late", "windows", "pending")})""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
rec = tuner.recommendation
print(f"recommended: lag {rec.lag.total_seconds():g}s, "
      f"lateness {rec.allowed_lateness.total_seconds():g}s, drop rate {rec.drop_rate:.3%}")""",
        ),
    ],
)

notebook(
    "03_global_vs_per_key_watermarks",
    [
        (
            "md",
            """# One watermark for the market, or one per symbol?

A global watermark is driven by the most advanced symbol. That is fine when
every symbol's feed is equally fresh — but in the sample, three thin symbols
print only through the venue whose feed runs 1.5 s behind. Under a global
watermark with a 1 s lag, their ticks arrive after the market has moved on and
are dropped; with one watermark per symbol (`scope="key"`), each symbol waits
for its own feed.""",
        ),
        ("code", SETUP),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
options = dict(lag="1s", allowed_lateness="0s", arrival_time="recv_ts")
by_scope = {scope: mw.tumbling_windows(ticks, "5s", scope=scope, partitions=4, **options)
            for scope in ("global", "partition", "key")}
drops = pd.DataFrame({scope: r.late["symbol"].value_counts() for scope, r in by_scope.items()})
drops = drops.fillna(0).astype(int).sort_values("global", ascending=False)
print(drops.head(8).to_string())
print({scope: r.summary()["dropped"] for scope, r in by_scope.items()})""",
        ),
        (
            "md",
            """The lagging symbols lose most of their ticks under the global
watermark and almost none under their own. Their watermark, both ways (the
line under each title says which scope):""",
        ),
        (
            "code",
            """lagging = ticks.groupby("symbol")["venue"].nunique().idxmin()
fig, axes = plt.subplots(2, 1, figsize=(11, 8), sharex=True, sharey=True,
                         layout="constrained")
for ax, scope in zip(axes, ("global", "key"), strict=True):
    mw.plot_watermark(by_scope[scope], ticks, key=lagging, arrival_time="recv_ts",
                      arrival_range=(100_000, 130_000),
                      options=dict(scope=scope, partitions=4, **options), ax=ax)
plt.show()""",
        ),
        (
            "md",
            """## Idle symbols and `idle_timeout`

The other side of per-symbol watermarks: a symbol that goes quiet holds its
last windows open, because nothing moves its watermark. `idle_timeout` caps how
far a symbol's watermark may trail the market's:
`max(M_symbol - lag, M_market - lag - idle_timeout)`. It is defined in event
time, so results stay deterministic.

Here the quietest symbols stop trading halfway through (their later ticks are
removed), and we look at how long their windows wait to be emitted.""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
quiet = ticks["symbol"].value_counts().index[-5:]
halfway = ticks["ts"].min() + pd.Timedelta("15min")
gappy = ticks[~(ticks["symbol"].isin(quiet) & (ticks["ts"] > halfway))]

def quiet_windows(result):
    # Quiet symbols: windows still pending at the end, and the longest wait of the emitted.
    emitted = result.windows[result.windows["symbol"].isin(quiet)]
    stuck = result.pending["symbol"].isin(quiet).sum()
    return stuck, (emitted["emit_time"] - emitted["window_end"]).max()

for idle in (None, "30s", "5s"):
    r = mw.tumbling_windows(gappy, "5s", scope="key", idle_timeout=idle, **options)
    stuck, longest = quiet_windows(r)
    print(f"idle_timeout={idle}: {stuck} quiet windows never closed; longest wait {longest}")""",
        ),
        (
            "md",
            """Without a timeout, each quiet symbol's last window never closes: it
is still pending at the end of the data, a quarter of an hour after the
symbol's last trade. With `idle_timeout="30s"` those windows close once the
market is 30 s (plus the lag) ahead, and with `"5s"` after about 6 s. The cost:
a tick of a quiet symbol that arrives after that is judged against the market's
pace, and may be dropped.""",
        ),
    ],
)

notebook(
    "04_incremental_replay",
    [
        (
            "md",
            """# Replaying a feed chunk by chunk

A live feed does not hand you a whole day at once: ticks arrive in batches, and
a long replay may crash half way. `Windower` runs the **same engine** as
`tumbling_windows`, one chunk at a time, keeping only the open windows and one
maximum event time per key between chunks. Whatever the chunk boundaries, the
concatenated output is exactly the batch result — and a checkpoint taken
between chunks can be restored in another process to carry on.""",
        ),
        (
            "code",
            """from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from mdwindow import Windower, tumbling_windows

data = Path("..") / "data" if Path("../data").exists() else Path("data")
ticks = pd.read_parquet(data / "ticks_sample.parquet")
options = dict(lag="2s", allowed_lateness="1s", scope="key", agg="ohlcv", arrival_time="recv_ts")
ticks[["ts", "recv_ts", "symbol", "price", "size", "venue"]].head()""",
        ),
        (
            "md",
            "First the reference: one batch call over the whole sample.",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
batch = tumbling_windows(ticks, "5s", **options)
batch.summary()""",
        ),
        (
            "md",
            """## Replay in chunks

Chunks of an awkward size (7,919 rows) so that chunk boundaries fall anywhere:
inside a window, inside a run of equal timestamps, in the middle of a stall.
Each `push` returns the windows that closed because of that chunk.""",
        ),
        (
            "code",
            """windower = Windower("5s", **options)
parts, progress = [], []
for start in range(0, len(ticks), 7_919):
    out = windower.push(ticks.iloc[start : start + 7_919])
    parts.append(out)
    progress.append(
        {
            "rows_seen": windower.rows_seen,
            "windows_emitted": len(out.windows),
            "open_windows": windower.open_windows,
            "state_kib": windower.state_nbytes / 1024,
            "slowest_key_watermark": windower.watermark.min(),
        }
    )
end = windower.flush()
progress = pd.DataFrame(progress)
progress.head()""",
        ),
        (
            "md",
            """The concatenation of every push plus the flush is the batch result, frame
by frame and value by value:""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
chunked = {
    "windows": pd.concat([p.windows for p in parts] + [end.windows], ignore_index=True),
    "late": pd.concat([p.late for p in parts]),
    "rejected": pd.concat([p.rejected for p in parts]),
    "trace": pd.concat([p.trace for p in parts]),
}
for name, frame in chunked.items():
    pd.testing.assert_frame_equal(frame, getattr(batch, name))
pd.testing.assert_frame_equal(end.pending, batch.pending)
print("chunked replay == batch for windows, pending, late, rejected and trace")""",
        ),
        (
            "md",
            """## The state stays small

Only open windows are held: with a 2-second lag that is a few seconds of
ticks, however long the replay. The state size stays flat while the rows seen
grow linearly.""",
        ),
        (
            "code",
            """fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(progress["rows_seen"], progress["state_kib"], marker=".")
ax.set_xlabel("rows pushed")
ax.set_ylabel("state size (KiB)")
ax.set_ylim(bottom=0)
ax.set_title("Engine state during the replay")
plt.show()""",
        ),
        (
            "md",
            """## Surviving a crash: checkpoint and restore

`checkpoint()` returns versioned, self-describing bytes (a JSON header and
Parquet sections with a checksum — never a pickle). `save(path)` writes them
atomically. A new process restores them and carries on; the result is the same
as an uninterrupted run.""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
import subprocess
import sys
import tempfile

half = len(ticks) // 2
first = Windower("5s", **options)
before_crash = first.push(ticks.iloc[:half])
folder = Path(tempfile.mkdtemp())
first.save(folder / "replay.ckpt")

script = f'''
import pandas as pd
from mdwindow import Windower
ticks = pd.read_parquet({str(data / "ticks_sample.parquet")!r})
w = Windower.load({str(folder / "replay.ckpt")!r})
rest = w.push(ticks.iloc[{half}:])
end = w.flush()
rest_windows = pd.concat([rest.windows, end.windows], ignore_index=True)
rest_windows.to_parquet({str(folder / "rest.parquet")!r})
'''
subprocess.run([sys.executable, "-c", script], check=True)
resumed = pd.concat(
    [before_crash.windows, pd.read_parquet(folder / "rest.parquet")], ignore_index=True
)
print("windows after restore in a new process == batch:", resumed.equals(batch.windows))""",
        ),
        (
            "md",
            """## Watching panes update (`emit="updates"`)

With `emit="updates"`, a window emits an on-time pane when the watermark
passes its end, then one accumulating pane per late tick while the allowed
lateness lasts. Here are the panes of the windows that received late ticks.""",
        ),
        (
            "code",
            """# NBVAL_CHECK_OUTPUT
updates = tumbling_windows(ticks, "5s", **{**options, "emit": "updates"})
revised = updates.windows[updates.windows["revision"] > 0]
columns = ["symbol", "window_start", "timing", "revision", "count", "late_count", "close",
           "emit_row"]
print(len(revised), "late panes")
touched = updates.windows.set_index(["symbol", "window_start"]).index.isin(
    revised.set_index(["symbol", "window_start"]).index
)
print(updates.windows.loc[touched, columns].head(8).to_string(index=False))""",
        ),
    ],
)


def build(name: str) -> Path:
    cells = []
    for kind, source in NOTEBOOKS[name]:
        cells.append(new_markdown_cell(source) if kind == "md" else new_code_cell(source))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    path = HERE / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


if __name__ == "__main__":
    for name in sys.argv[1:] or list(NOTEBOOKS):
        print("wrote", build(name))
