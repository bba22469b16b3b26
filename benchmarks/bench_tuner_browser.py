"""How long a tuner move takes as a person sees it: input event to new image, in JupyterLab.

Usage::

    python benchmarks/bench_tuner_browser.py [--rows 1000000] [--moves 4] [--keep DIR]

A small notebook is written to a temporary root (``big =
generate_ticks(1_000_000, symbols=20, seed=7, duration="2h")``, ``tuner =
tune(big, "5s", lag="1s", arrival_time="recv_ts")``), served by JupyterLab on
127.0.0.1 and run in headless Chromium (Run > Run All Cells), with the harness
of ``tests/jupyter_harness.py``. Then every control is moved as a person moves
it: the lag and lateness sliders by keyboard (ArrowRight / ArrowLeft on the
focused handle) and by mouse drag, the window size menu and the symbol menu by
picking an option, the scope buttons by clicking. Every window size and scope
is visited for the first time (a scan of all rows for that size and scope)
and again; the two are reported apart.

A move's latency is measured in the page's clock: from the input event that
made it (``keydown``, ``pointerup`` at the end of a drag, the select's
``change``, the button's ``click``; each caught in the capture phase, before
any handler) to the moment the new image has decoded (a MutationObserver on
the ``img`` src, then ``img.decode()``). After each move, outside the timing,
the kernel is asked (a second client of its kernel) which PNG the tuner holds,
and the page must show exactly those bytes.

Prints the median and max per control against the target of 300 ms. With
``--keep DIR`` the root, the server's log and a screenshot per move stay in DIR.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 300.0
TUNER = "tuner"
NOTEBOOK = "bench_tuner.ipynb"
#: The input event a move's latency is counted from, by how it is made.
TRIGGER = {"keyboard": "keydown", "mouse": "pointerup", "menu": "change", "button": "click"}


def _harness() -> Any:
    spec = importlib.util.spec_from_file_location(
        "jupyter_harness", REPO / "tests" / "jupyter_harness.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


H = _harness()


def notebook_cells(rows: int) -> list[str]:
    return [
        "from mdwindow.synth import generate_ticks\n"
        "from mdwindow.widgets import tune\n\n"
        f'big = generate_ticks({rows:_}, symbols=20, seed=7, duration="2h")',
        f'{TUNER} = tune(big, "5s", lag="1s", arrival_time="recv_ts")\n{TUNER}',
    ]


class Bench:
    """The tuner open in the page; moves made and timed."""

    def __init__(self, notebook: Any, view: Any, probe: Any, shots: bool) -> None:
        self.notebook = notebook
        self.view = view
        self.probe = probe
        self.shots = shots
        self.results: list[dict[str, Any]] = []
        self.state = self.kernel_state()
        self.visited = {(self.label("window"), self.label("scope"))}
        self._direction: dict[str, int] = {}

    def kernel_state(self) -> dict[str, Any]:
        return self.probe.state(TUNER, timeout=120)

    def label(self, name: str) -> str:
        return next(c["label"] for c in self.state["controls"] if c["description"] == name)

    def control(self, name: str) -> dict[str, Any]:
        return next(c for c in self.state["controls"] if c["description"] == name)

    def move(self, control: str, how: str, act: Any, expect: str, kind: str = "") -> None:
        """Make one move (``act()``), wait for its image, time it, check it."""
        timing = self.view.timing()
        images_before = len(timing["images"])
        inputs_before = len(timing["inputs"])
        started = time.monotonic()
        act()
        trigger = TRIGGER[how]

        def arrived() -> Any:
            log = self.view.timing()
            events = [e for e in log["inputs"][inputs_before:] if e["type"] == trigger]
            images = log["images"][images_before:]
            if events and images:
                return events[-1], images, log
            return None

        entry: dict[str, Any] = {"control": control, "how": how, "kind": kind, "to": expect}
        try:
            event, images, _log = H.wait_until(arrived, f"the image after {control} {how}", 120)
            time.sleep(0.2)  # a second image of the same move would land here
            self.state = H.wait_until(
                lambda: self._consistent(control, expect), "the page to show the kernel's PNG", 60
            )
            if self.state.get("message"):
                raise AssertionError(f"the tuner says: {self.state['message']}")
            log = self.view.timing()
            images = log["images"][images_before:]
            last = images[-1]
            entry.update(
                ms=last["t"] - event["t"],
                first_image_ms=images[0]["t"] - event["t"],
                src_set_ms=last["changed"] - event["t"],
                images=len(images),
                decoded=all(image["ok"] for image in images),
                wall_s=time.monotonic() - started,
            )
        except AssertionError as exc:
            self.state = self.kernel_state()
            entry.update(ms=None, error=str(exc)[:300], message=self.state.get("message", ""))
        self.visited.add((self.label("window"), self.label("scope")))
        if self.shots:
            self.notebook.screenshot(f"{control}-{how}-{expect}", self.view.root)
        self.results.append(entry)
        shown = "error" if entry["ms"] is None else f"{entry['ms']:7.0f} ms"
        print(f"  {control:9} {how:8} -> {expect:9} {kind:12} {shown}", flush=True)
        time.sleep(0.3)

    def _consistent(self, control: str, expect: str) -> dict[str, Any] | None:
        state = self.kernel_state()
        held = next(c["label"] for c in state["controls"] if c["description"] == control)
        if held != expect:
            return None
        if state.get("message"):
            return state
        page = self.view.images_and_text()
        if [i["sha256"] for i in page["images"]] != [i["sha256"] for i in state["images"]]:
            return None
        return state

    # the controls

    def slider_keyboard(self, name: str, presses: int) -> None:
        """``presses`` arrow keys on the slider: rightwards, back at its end."""
        for _ in range(presses):
            control = self.control(name)
            step = self._direction.get(name, 1)
            if not 0 <= control["index"] + step < len(control["options"]):
                step = -step
            self._direction[name] = step
            key = "ArrowRight" if step > 0 else "ArrowLeft"
            target = control["options"][control["index"] + step]
            self.move(name, "keyboard", lambda n=name, k=key: self.view.press(n, k), target)

    def slider_mouse(self, name: str, indices: list[int]) -> None:
        for index in indices:
            control = self.control(name)
            index = min(index, len(control["options"]) - 1)
            if index == control["index"]:
                continue
            target = control["options"][index]
            self.move(name, "mouse", lambda n=name, i=index: self.view.drag(n, i), target)

    def pick(self, name: str, option: str) -> None:
        if self.label(name) == option:
            return
        how = "menu" if name in ("window", "symbol") else "button"
        size = option if name == "window" else self.label("window")
        scope = option if name == "scope" else self.label("scope")
        kind = ""
        if name in ("window", "scope"):
            kind = "revisit" if (size, scope) in self.visited else "first visit"
        self.move(name, how, lambda: self.view.choose(name, option), option, kind)


def summarize(results: list[dict[str, Any]]) -> list[str]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        name = f"{r['control']} ({r['how']}{', ' + r['kind'] if r['kind'] else ''})"
        groups.setdefault(name, []).append(r)
    head = f"{'control':38} {'moves':>5} {'median ms':>10} {'max ms':>8}"
    lines = [f"{head} {'> 300 ms':>9} {'errors':>6}"]
    for name, rows in groups.items():
        times = [r["ms"] for r in rows if r["ms"] is not None]
        errors = len(rows) - len(times)
        median = f"{statistics.median(times):10.0f}" if times else f"{'-':>10}"
        worst = f"{max(times):8.0f}" if times else f"{'-':>8}"
        over = sum(t > TARGET_MS for t in times)
        lines.append(f"{name:38} {len(rows):5d} {median} {worst} {over:9d} {errors:6d}")
    every = [r["ms"] for r in results if r["ms"] is not None]
    if every:
        lines.append(
            f"{'all moves':38} {len(results):5d} {statistics.median(every):10.0f} "
            f"{max(every):8.0f} {sum(t > TARGET_MS for t in every):9d} "
            f"{sum(r['ms'] is None for r in results):6d}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--moves", type=int, default=4, help="keyboard moves per slider")
    parser.add_argument("--keep", type=Path, help="keep the root, log and screenshots here")
    parser.add_argument("--json", type=Path, help="write every move's timing here")
    args = parser.parse_args(argv)

    missing = H.missing_requirements()
    if missing:
        print("needs " + ", ".join(missing), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench_tuner_browser_") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        try:
            return run(args, work)
        except H.HarnessError as exc:
            print(f"failed: {exc}", file=sys.stderr)
            return 1


def run(args: argparse.Namespace, work: Path) -> int:
    H.write_notebook(work / "root" / NOTEBOOK, notebook_cells(args.rows))
    lab = H.JupyterLab(work / "root", work / "jupyter")
    browser = H.Browser(work / "profile")
    probe = None
    print(f"{args.rows:,} ticks; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    try:
        start = time.monotonic()
        lab.start()
        browser.start()
        notebook = H.NotebookPage(lab, browser, NOTEBOOK, work / "shots")
        notebook.open(timeout=120)
        notebook.run_all()
        notebook.wait_for_run(timeout=900)
        view = H.WidgetView(notebook, "lag")
        view.find()
        view.root.scroll_into_view_if_needed()
        probe = lab.probe(NOTEBOOK)
        bench = Bench(notebook, view, probe, shots=args.keep is not None)
        print(f"notebook ran in {time.monotonic() - start:.0f} s; moving the controls")
        view.install_timing()

        bench.slider_keyboard("lag", args.moves)
        bench.slider_mouse("lag", [2, 8, 4])
        bench.slider_keyboard("lateness", args.moves)
        bench.slider_mouse("lateness", [5, 1, 3])
        sizes = bench.control("window")["options"]
        scopes = bench.control("scope")["options"]
        for size in [*sizes[::-1], *sizes]:  # each size first, then again
            bench.pick("window", size)
        bench.pick("window", "5s")
        for scope in [*scopes, *scopes, "key"]:
            bench.pick("scope", scope)
        for symbol in bench.control("symbol")["options"][1:4]:
            bench.pick("symbol", symbol)
        problems = notebook.problems()
    finally:
        if probe is not None:
            probe.close()
        browser.stop()
        lab.stop()

    print()
    print("\n".join(summarize(bench.results)))
    for r in bench.results:
        if r["ms"] is None:
            print(f"error: {r['control']} -> {r['to']}: {r.get('message') or r['error']}")
    for problem in problems:
        print(f"page problem: {problem[:300]}")
    if args.json:
        args.json.write_text(json.dumps(bench.results, indent=1), encoding="utf-8")
    if args.keep:
        print(f"kept in {work}")
    timed = [r["ms"] for r in bench.results if r["ms"] is not None]
    slow = sum(t > TARGET_MS for t in timed)
    print(f"target {TARGET_MS:.0f} ms: {len(timed) - slow} of {len(bench.results)} moves within")
    return 0


if __name__ == "__main__":
    sys.exit(main())
