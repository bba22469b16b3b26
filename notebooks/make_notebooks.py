"""Write the example notebooks from the cell lists below (outputs come from running them).

Usage::

    python notebooks/make_notebooks.py [NAME ...]   # then execute, e.g.
    jupyter nbconvert --to notebook --execute --inplace notebooks/04_incremental_replay.ipynb

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
pd.concat([rest.windows, end.windows], ignore_index=True).to_parquet({str(folder / "rest.parquet")!r})
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
columns = ["symbol", "window_start", "timing", "revision", "count", "late_count", "close", "emit_row"]
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
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    path = HERE / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


if __name__ == "__main__":
    for name in sys.argv[1:] or list(NOTEBOOKS):
        print("wrote", build(name))
