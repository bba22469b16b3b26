"""The tuner as a person uses it: notebook 02 in a real JupyterLab, in headless Chromium.

A copy of ``notebooks/02_tuning_lag_and_lateness.ipynb`` and the data files it
reads is laid out in a temporary root (``notebooks/`` beside ``data/``, as in
the repository); JupyterLab serves it on 127.0.0.1 (free port, random token);
Chromium opens it and runs all cells from the Run menu. Then the tuner's
controls are moved as a person moves them (found by their labels and ARIA
roles): the lag slider by keyboard and by mouse, the lateness slider by
keyboard, the window size menu and the scope buttons. After each move:

- the kernel is asked directly (a second client of the notebook's kernel, whose
  requests leave no trace in the notebook) what the tuner holds: each control's
  value, the SHA-256 of the PNG bytes of its image widget, the text of its HTML
  widgets, its message; and the full windowing result of the current settings,
  computed afresh, which the tuner's summary must equal;
- the page must show exactly that: each control's shown value is the kernel's,
  the bytes behind each ``img`` src hash to the kernel's PNG, the summary text
  is the kernel's; the image and the summary differ from the step before, and
  the moved control holds the value the move asked for;
- no console error, no page error, no widget error text ("Error displaying
  widget", "Model not found", a traceback) and no stderr output in the page.

One session serves the module's tests, in order: the tuner as Run All leaves
it, the moves, then every scope the tuner offers. Screenshots of each step
(``NN-step.png``) and what was observed (``steps.json``) stay in the session's
temporary directory (``tuner_browser0`` under pytest's base temp). Skipped
when chromium, JupyterLab or Playwright is missing, unless
``MDWINDOW_REQUIRE_BROWSER`` is set
(CI): then it fails.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.jupyter_harness import (
    Browser,
    Deadline,
    HarnessError,
    JupyterLab,
    NotebookPage,
    WidgetView,
    missing_requirements,
)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks" / "02_tuning_lag_and_lateness.ipynb"
#: The notebook's name for the tuner (``tuner = tune(...)``).
TUNER = "tuner"
#: The label of the control the tuner is found by in the page.
ANCHOR = "lag"
#: The whole session (server, browser, run all, every step) ends within this.
SESSION_SECONDS = 165
#: Read in the kernel at each step: the full windowing result of the tuner's
#: current settings, for the counts its summary shows.
RESULT_COUNTS = "lambda t: {k: int(v) for k, v in t.result.summary().items() if k != 'drop_rate'}"


def require_browser() -> None:
    missing = missing_requirements()
    if not missing:
        return
    if os.environ.get("MDWINDOW_REQUIRE_BROWSER"):
        pytest.fail(f"MDWINDOW_REQUIRE_BROWSER is set but this machine lacks {', '.join(missing)}")
    pytest.skip(f"needs {', '.join(missing)}; CI installs them")


def data_files(notebook: Path) -> list[str]:
    """The data files (under ``data/``) that the notebook's code cells name."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return sorted(set(re.findall(r"[\w.-]+\.(?:parquet|csv)\b", source)))


def lay_out(root: Path, notebook: Path) -> str:
    """Copy ``notebook`` and its data into ``root``; the notebook's path in it."""
    (root / "notebooks").mkdir(parents=True)
    (root / "data").mkdir()
    names = data_files(notebook)
    assert names, f"{notebook.name} reads no data file this test knows how to copy"
    for name in names:
        shutil.copy2(REPO / "data" / name, root / "data" / name)
    shutil.copy2(notebook, root / "notebooks" / notebook.name)
    return f"notebooks/{notebook.name}"


class Observation:
    """The kernel's tuner and the page's, read together, and how they differ."""

    def __init__(self, kernel: dict[str, Any], page: dict[str, Any], shown: dict[str, Any]):
        self.kernel = kernel
        self.page = page
        self.shown = shown

    @property
    def controls(self) -> dict[str, dict[str, Any]]:
        return {c["description"]: c for c in self.kernel["controls"]}

    @property
    def image_hashes(self) -> list[str]:
        return [image["sha256"] for image in self.kernel["images"]]

    @property
    def summary_text(self) -> str:
        return "|".join(h["text"] for h in self.kernel["htmls"] if h["text"])

    def differences(self) -> list[str]:
        """Where the page does not show what the kernel holds."""
        problems = []
        for name, control in self.controls.items():
            shown = self.shown.get(name, {})
            if shown.get("value") != control["label"]:
                problems.append(
                    f"{name}: kernel {control['label']!r}, page shows {shown.get('value')!r}"
                )
        page_hashes = [image["sha256"] for image in self.page["images"]]
        if page_hashes != self.image_hashes:
            problems.append(f"images: kernel {self.image_hashes}, page {page_hashes}")
        for html in self.kernel["htmls"]:
            if html["text"] and html["text"] not in self.page["text"]:
                problems.append(f"text not shown: {html['text'][:200]!r}")
        return problems

    def record(self, step: str) -> dict[str, Any]:
        return {
            "step": step,
            "kernel": {k: v for k, v in self.kernel.items() if k != "htmls"}
            | {"htmls": [h["html"] for h in self.kernel["htmls"]]},
            "page": self.page,
            "shown": self.shown,
        }


class TunerSession:
    """The tuner of one notebook, in the page and in the kernel."""

    def __init__(self, notebook: NotebookPage, view: WidgetView, probe: Any, deadline: Deadline):
        self.notebook = notebook
        self.view = view
        self.probe = probe
        self.deadline = deadline
        self.records: list[dict[str, Any]] = []
        self.last: Observation | None = None

    def observe(self, extra: str | None = None) -> Observation:
        kernel = self.probe.state(TUNER, extra=extra, timeout=self.deadline.left(60))
        page = self.view.images_and_text()
        shown = {c["description"]: self.view.shown(c["description"]) for c in kernel["controls"]}
        return Observation(kernel, page, shown)

    def settle(
        self, step: str, before: Observation | None, expect: dict[str, str], timeout: float = 60
    ) -> Observation:
        """Wait until the page shows what the kernel holds, the kernel holds what
        ``expect``s, and (after a move) the image and the summary are new; then
        check the rest. The observation, recorded and screenshotted."""
        start = time.monotonic()
        budget = self.deadline.left(timeout)
        end = start + budget
        while True:
            try:
                seen = self.observe()
            except Exception as exc:  # noqa: BLE001 - a view being redrawn; retried
                seen, waiting = None, [f"{type(exc).__name__}: {exc}"]
            else:
                waiting = seen.differences()
            for name, label in expect.items() if seen else ():
                held = seen.controls.get(name, {}).get("label")
                if held != label:
                    waiting.append(f"{name}: kernel holds {held!r}, the move asked for {label!r}")
            if seen and before is not None:
                if seen.image_hashes == before.image_hashes:
                    waiting.append("the image did not change")
                if seen.summary_text == before.summary_text:
                    waiting.append("the summary did not change")
            if not waiting or time.monotonic() > end:
                break
            time.sleep(0.3)
        shot = self.notebook.screenshot(step, self.view.root)
        record = seen.record(step) if seen else {"step": step}
        self.records.append(record | {"screenshot": shot.name, "waiting": waiting})
        if waiting:
            why = f"after {time.monotonic() - start:.1f} s"
            if budget < timeout:
                why += f", when the session's {self.deadline.seconds:.0f} s ran out"
            raise AssertionError(f"{step} ({why}): " + "; ".join(waiting))

        problems = self.notebook.problems()
        assert not problems, f"{step}: " + "; ".join(problems)
        assert seen.kernel.get("message", "") == "", f"{step}: tuner says {seen.kernel['message']}"
        for image in seen.page["images"]:
            assert image["bytes"] > 0 and image["naturalWidth"] > 0, f"{step}: broken {image}"
        assert seen.kernel["images"] and seen.summary_text, f"{step}: no image or summary"
        # The truth behind the summary: a fresh windowing run with these settings.
        truth = self.probe.state(TUNER, extra=RESULT_COUNTS, timeout=self.deadline.left(60))
        for name, value in truth["extra"].items():
            assert truth["summary"][name] == str(value), (
                f"{step}: summary {name} {truth['summary'][name]}, windowing says {value}"
            )
        assert truth["controls"] == seen.kernel["controls"], f"{step}: the kernel moved on"
        return seen


def _next_index(control: dict[str, Any], step: int) -> int:
    """``step`` positions on from the control's value, or back at its end."""
    index = control["index"] + step
    if not 0 <= index < len(control["options"]):
        index = control["index"] - step
    return index


@pytest.fixture(scope="module")
def tuner(tmp_path_factory):
    """Notebook 02 open in JupyterLab in Chromium, all cells run, the tuner
    rendered and checked against the kernel (step "rendered")."""
    require_browser()
    tmp_path = tmp_path_factory.mktemp("tuner_browser")
    deadline = Deadline(SESSION_SECONDS)
    path = lay_out(tmp_path / "root", NOTEBOOK)
    lab = JupyterLab(tmp_path / "root", tmp_path / "jupyter")
    browser = Browser(tmp_path / "profile")
    probe = None
    session = None
    try:
        try:
            lab.start(timeout=deadline.left(90))
            browser.start()
            notebook = NotebookPage(lab, browser, path, tmp_path)
            notebook.open(deadline=deadline)
            notebook.screenshot("opened")
            notebook.run_all()
            notebook.wait_for_run(deadline=deadline)
            view = WidgetView(notebook, ANCHOR)
            assert view.find(deadline=deadline) == 1, "the page shows more than one tuner"
            view.root.scroll_into_view_if_needed()
            notebook.screenshot("ran-all")
            probe = lab.probe(path, timeout=deadline.left(30))
            session = TunerSession(notebook, view, probe, deadline)
            session.last = session.settle("rendered", None, {})
        except HarnessError as exc:
            raise AssertionError(f"{exc}\n--- server log ---\n{lab.log_tail()}") from None
        yield session
    finally:
        records = session.records if session else []
        (tmp_path / "steps.json").write_text(json.dumps(records, indent=1), encoding="utf-8")
        if probe is not None:
            probe.close()
        browser.stop()
        lab.stop()


def moved_from_code(notebook: Path) -> dict[str, Any]:
    """The values of the notebook's last ``tuner.set(...)`` call, by control label."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    values: dict[str, Any] = {}
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "set"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == TUNER
            ):
                values = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    names = {"lag": "lag", "allowed_lateness": "lateness", "size": "window"}
    return {names.get(k, k): v for k, v in values.items()}


@pytest.mark.browser
def test_run_all_renders_the_tuner(tuner):
    seen = tuner.last
    assert {"lag", "lateness", "window", "scope"} <= set(seen.controls), seen.controls
    assert len(seen.page["images"]) == len(seen.kernel["images"]) == 1
    # The notebook moves the tuner from code after showing it: the page followed.
    for name, value in moved_from_code(NOTEBOOK).items():
        label = seen.controls[name]["label"]
        if name in ("lag", "lateness", "window"):
            label, value = pd.Timedelta(label), pd.Timedelta(value)
        assert label == value, name


@pytest.mark.browser
def test_moves_by_keyboard_and_mouse_show_the_kernels_state(tuner):
    seen = tuner.last
    lag = seen.controls["lag"]
    index = _next_index(lag, 1)
    tuner.view.press("lag", "ArrowRight" if index > lag["index"] else "ArrowLeft")
    seen = tuner.settle("lag-keyboard", seen, {"lag": lag["options"][index]})

    lag = seen.controls["lag"]
    index = 2 if lag["index"] >= 4 else len(lag["options"]) - 2
    tuner.view.drag("lag", index)
    seen = tuner.settle("lag-mouse", seen, {"lag": lag["options"][index]})

    lateness = seen.controls["lateness"]
    index = _next_index(lateness, -1)
    tuner.view.press("lateness", "ArrowLeft" if index < lateness["index"] else "ArrowRight")
    seen = tuner.settle("lateness-keyboard", seen, {"lateness": lateness["options"][index]})

    window = seen.controls["window"]
    size = window["options"][_next_index(window, 1)]
    tuner.view.choose("window", size)
    seen = tuner.settle("window", seen, {"window": size})

    for scope in ("global", "key"):
        tuner.view.choose("scope", scope)
        seen = tuner.settle(f"scope-{scope}", seen, {"scope": scope})
    tuner.last = seen


@pytest.mark.browser
def test_every_offered_scope_works(tuner):
    seen = tuner.last
    for scope in seen.controls["scope"]["options"]:
        if scope != seen.controls["scope"]["label"]:
            tuner.view.choose("scope", scope)
            seen = tuner.settle(f"scope-{scope}", seen, {"scope": scope})
    tuner.last = seen


#: How the tuner lays out in an output area ``width`` CSS pixels wide: whether any
#: part of it scrolls sideways, where its control labels are, whether each summary
#: header sits on one line, and its height.
_LAYOUT_JS = """async (root, width) => {
    root.style.width = width + 'px';
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const overflowing = [...root.querySelectorAll('*'), root].filter(e => {
        const style = getComputedStyle(e);
        return e.scrollWidth > e.clientWidth + 1 &&
            ['auto', 'scroll'].includes(style.overflowX);
    }).map(e => e.className || e.tagName);
    const labels = [...root.querySelectorAll('label.widget-label')].filter(
        l => l.offsetParent !== null && l.textContent.trim()).map(l => {
        const box = l.getBoundingClientRect();
        const control = l.parentElement.getBoundingClientRect();
        const next = l.nextElementSibling ? l.nextElementSibling.getBoundingClientRect() : box;
        return {text: l.textContent.trim(), left: box.left - root.getBoundingClientRect().left,
                width: box.width, middle: box.top + box.height / 2,
                next_middle: next.top + next.height / 2, control_width: control.width};
    });
    const headers = [...root.querySelectorAll('.mdwindow-summary-name')].map(
        s => ({text: s.textContent, lines: s.getClientRects().length}));
    const box = root.getBoundingClientRect();
    const img = root.querySelector('img').getBoundingClientRect();
    return {overflowing, labels, headers, width: box.width, height: box.height,
            image: [img.width, img.height], scrollWidth: root.scrollWidth};
}"""


@pytest.mark.browser
def test_the_tuner_fits_narrow_and_laptop_output_areas(tuner):
    root = tuner.view.root
    try:
        for width in (500, 1000):
            layout = root.evaluate(_LAYOUT_JS, width)
            shot = tuner.notebook.screenshot(f"layout-{width}px", root)
            tuner.records.append({"step": f"layout-{width}px", "layout": layout,
                                  "screenshot": shot.name})  # fmt: skip
            assert not layout["overflowing"], (width, layout["overflowing"])
            assert layout["scrollWidth"] <= layout["width"] + 1, width
            labels = {label["text"]: label for label in layout["labels"]}
            assert {"lag", "lateness", "window", "symbol", "scope"} <= set(labels), labels
            # One label width; each label on the line of its control (scope's too).
            assert len({round(label["width"]) for label in labels.values()}) == 1, labels
            for label in labels.values():
                assert abs(label["middle"] - label["next_middle"]) < 8, label
            # Labels in columns: as many distinct left edges as columns, lag's at the left.
            assert labels["lag"]["left"] < 2 and labels["scope"]["left"] < 2, labels
            # Summary headers never break inside.
            assert len(layout["headers"]) > 5
            assert all(h["lines"] == 1 for h in layout["headers"]), layout["headers"]
            assert layout["image"][0] <= width + 1
            if width == 1000:
                assert layout["height"] <= 750, layout["height"]
    finally:
        root.evaluate("(root) => { root.style.width = ''; }")
