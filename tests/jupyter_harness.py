"""A notebook in a real JupyterLab, driven by headless Chromium through Playwright.

Shared by ``tests/test_tuner_browser.py`` and ``benchmarks/bench_tuner_browser.py``:

- :class:`JupyterLab` starts ``jupyter lab`` on 127.0.0.1 with a free port and a
  random token, over a root directory of the caller's, with its own runtime,
  config, settings, workspace and IPython directories (nothing of the user's
  is read or written), and stops it with its kernels;
- :class:`KernelProbe` talks to a notebook's kernel directly (jupyter_client,
  through the connection file the server wrote) to read what the kernel holds,
  without adding a cell or an output to the notebook;
- :class:`Browser` is headless Chromium with a fresh profile, recording every
  console error and uncaught page error;
- :class:`NotebookPage` opens a notebook, runs all cells from the Run menu and
  waits for them, and finds error texts in the page;
- :class:`WidgetView` finds a widget's controls by the text of their labels and
  their ARIA roles (never by a CSS path), reads what they show, moves them by
  keyboard and mouse, and reads the images it shows (SHA-256 of the bytes
  behind each ``img`` src).

Nothing here imports Playwright, jupyter_client or JupyterLab at import time:
the module is importable (and collected by pytest) where they are missing;
:func:`missing_requirements` says what is.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

#: Chromium's flags here: no sandbox (root), no GPU, and none of the background
#: connections this closed network refuses.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Texts that mean a widget or a cell failed, wherever they show in the page.
ERROR_TEXTS = (
    "Error displaying widget",
    "Model not found",
    "Traceback (most recent call last)",
    "Failed to load model class",
    "Could not create a view",
)
#: Settings a person would have answered on a first visit: no news toast
#: (which would also reach for the network), no update check.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


class HarnessError(AssertionError):
    """Something the page, the server or the kernel did not do in time, or did wrong."""


# -- what is needed ---------------------------------------------------------


def find_chromium() -> str | None:
    """A Chromium to drive: ``MDWINDOW_CHROMIUM``, else the first on PATH."""
    chosen = os.environ.get("MDWINDOW_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_requirements() -> list[str]:
    """What is missing to run a notebook in JupyterLab in Chromium ([] when nothing)."""
    import importlib.util

    missing = []
    if find_chromium() is None:
        missing.append("chromium (apt-get install chromium)")
    for module, package in (
        ("jupyterlab", "jupyterlab"),
        ("playwright", "playwright"),
        ("jupyter_client", "jupyter_client"),
        ("ipykernel", "ipykernel"),
    ):
        if importlib.util.find_spec(module) is None:
            missing.append(f"{package} (pip install -e '.[dev]')")
    return missing


# -- time -------------------------------------------------------------------


class Deadline:
    """A bound on a whole session: each wait takes the smaller of its own
    timeout and what is left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self, timeout: float | None = None) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise HarnessError(f"the session's time ({self.seconds:.0f} s) is up")
        return left if timeout is None else min(left, timeout)


def wait_until(
    probe: Callable[[], Any],
    what: str,
    timeout: float,
    interval: float = 0.2,
    deadline: Deadline | None = None,
) -> Any:
    """Call ``probe`` until it returns something true; that value. A probe that
    raises counts as not yet; the last exception is named on timeout."""
    if deadline is not None:
        timeout = deadline.left(timeout)
    end = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = probe()
        except Exception as exc:  # noqa: BLE001 - retried, reported on timeout
            value, last = None, exc
        else:
            if value:
                return value
            last = value
        if time.monotonic() >= end:
            raise HarnessError(
                f"timed out after {timeout:.0f} s waiting for {what}; last: {last!r}"
            )
        time.sleep(interval)


# -- the server -------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` over ``root`` on 127.0.0.1, a free port and a random token.

    Its own directories (runtime, config, settings, workspaces, IPython) and its
    log live under ``state``. Use as a context manager, or call :meth:`start` and
    :meth:`stop` (in a ``finally``): stopping shuts the server and its kernels
    down, then kills what is left of the server's process group and of the
    kernels' groups.
    """

    def __init__(self, root: Path, state: Path) -> None:
        self.root = Path(root).resolve()
        self.state = Path(state).resolve()
        self.token = secrets.token_hex(24)
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log_path = self.state / "jupyterlab.log"
        self._log: Any = None
        self._kernels: dict[int, Any] = {}  # pid -> psutil.Process

    # directories of the server's own
    @property
    def runtime_dir(self) -> Path:
        return self.state / "runtime"

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        dirs = {
            "JUPYTER_RUNTIME_DIR": self.runtime_dir,
            "JUPYTER_CONFIG_DIR": self.state / "config",
            "JUPYTERLAB_SETTINGS_DIR": self.state / "settings",
            "JUPYTERLAB_WORKSPACES_DIR": self.state / "workspaces",
            "IPYTHONDIR": self.state / "ipython",
        }
        for name, path in dirs.items():
            path.mkdir(parents=True, exist_ok=True)
            env[name] = str(path)
        for name, values in LAB_SETTINGS.items():
            target = dirs["JUPYTERLAB_SETTINGS_DIR"] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values), encoding="utf-8")
        env.pop("JUPYTER_TOKEN", None)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.allow_root=True",
            "--ServerApp.terminals_enabled=False",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]

    def start(self, timeout: float = 90.0) -> JupyterLab:
        self.state.mkdir(parents=True, exist_ok=True)
        env = self._environment()
        self._log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115
        end = time.monotonic() + timeout
        for _attempt in range(3):  # a port taken between free_port() and the bind
            self.port = free_port()
            self.process = subprocess.Popen(
                self._command(),
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )
            while time.monotonic() < end:
                if self.process.poll() is not None:
                    break
                try:
                    self.api("GET", "/api/status", timeout=2)
                    return self
                except (OSError, urllib.error.URLError):
                    time.sleep(0.25)
            else:
                self.stop()
                raise HarnessError(
                    f"JupyterLab did not answer within {timeout:.0f} s\n{self.log_tail()}"
                )
            if "is already in use" not in self.log_tail():
                break
        raise HarnessError(f"JupyterLab exited with {self.process.returncode}\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def url(self, path: str = "", *, lab: bool = True) -> str:
        base = f"http://127.0.0.1:{self.port}"
        if lab:
            return f"{base}/lab/tree/{path}?token={self.token}"
        return f"{base}{path}"

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url(path, lab=False),
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            payload = response.read()
        return json.loads(payload) if payload else None

    def session_kernel(self, path: str) -> str | None:
        """The id of the kernel of the notebook at ``path`` (relative to the root)."""
        for session in self.api("GET", "/api/sessions"):
            if session.get("path") == path and session.get("kernel"):
                return session["kernel"]["id"]
        return None

    def kernel_state(self, kernel_id: str) -> str:
        return self.api("GET", f"/api/kernels/{kernel_id}").get("execution_state", "")

    def connection_file(self, kernel_id: str) -> Path:
        return self.runtime_dir / f"kernel-{kernel_id}.json"

    def probe(self, path: str, timeout: float = 60.0) -> KernelProbe:
        """A direct client of the kernel of the notebook at ``path``."""
        kernel_id = wait_until(lambda: self.session_kernel(path), f"a kernel for {path}", timeout)
        connection = wait_until(
            lambda: self.connection_file(kernel_id).exists() and self.connection_file(kernel_id),
            "the kernel's connection file",
            timeout,
        )
        self._remember_kernels()
        return KernelProbe(connection, kernel_id)

    def _remember_kernels(self, process: subprocess.Popen | None = None) -> None:
        """Note the server's descendants (its kernels run in sessions of their
        own, out of the server's process group) to kill any left at the end."""
        process = process or self.process
        if process is None:
            return
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil comes with ipython
            return
        try:
            children = psutil.Process(process.pid).children(recursive=True)
        except psutil.Error:
            return
        self._kernels.update((child.pid, child) for child in children)

    def stop(self) -> None:
        """Shut the server and its kernels down; kill whatever is left."""
        process, self.process = self.process, None
        try:
            if process is not None and process.poll() is None:
                self._remember_kernels(process)
                with contextlib.suppress(Exception):
                    self.api("POST", "/api/shutdown", timeout=5)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=15)
                for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                    if process.poll() is not None:
                        break
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, sig)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=wait)
            if process is not None:
                # The group outlives its leader when a child (a kernel started in
                # the same group, a helper) is still in it.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            if self._kernels:
                _kill_groups(self._kernels.values())
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _kill_groups(processes: Iterable[Any]) -> None:
    """Kill each of ``processes`` (``psutil.Process``, so a reused pid is never
    hit) still running, with its process group when it leads one of its own
    (kernels run in sessions of their own), never the caller's group."""
    import psutil

    own = os.getpgrp()
    alive = [proc for proc in processes if proc.is_running()]
    for proc in alive:
        with contextlib.suppress(psutil.Error, ProcessLookupError, PermissionError):
            if os.getpgid(proc.pid) == proc.pid != own:
                os.killpg(proc.pid, signal.SIGTERM)
            else:
                proc.terminate()
    _gone, alive = psutil.wait_procs(alive, timeout=5)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)


# -- the kernel -------------------------------------------------------------

_PROBE_MARK = "__mdwindow_probe__"
#: Runs in the kernel, in a namespace of its own (nothing is added to the
#: notebook's), on the object named by the caller: walks the displayed widget
#: tree and reports each selection control (description, label, options), each
#: image (SHA-256 of the bytes it holds, PNG size) and each HTML text (its
#: text without markup or whitespace), and what the object says of itself.
_PROBE_SOURCE = r"""
import hashlib, html.parser, json, re, struct
import ipywidgets

class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []
    def handle_data(self, data):
        self.parts.append(data)

def _text(markup):
    parser = _Text()
    parser.feed(markup or "")
    parser.close()
    return re.sub(r"\s+", "", "".join(parser.parts))

def _png_size(data):
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return list(struct.unpack(">II", data[16:24]))
    return None

def _probe(target, extra):
    root = target if isinstance(target, ipywidgets.Widget) else target.widget
    state = {"controls": [], "images": [], "htmls": [], "hidden": []}
    def walk(widget):
        layout = getattr(widget, "layout", None)
        if layout is not None and (layout.display == "none" or layout.visibility == "hidden"):
            state["hidden"].append(type(widget).__name__)
            return
        if isinstance(widget, ipywidgets.Image):
            data = bytes(widget.value or b"")
            state["images"].append({
                "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                "format": widget.format, "png_size": _png_size(data),
            })
        elif isinstance(widget, (ipywidgets.HTML, ipywidgets.HTMLMath)):
            state["htmls"].append({"text": _text(widget.value), "html": widget.value})
        elif hasattr(widget, "_options_labels") and getattr(widget, "description", ""):
            state["controls"].append({
                "description": widget.description, "label": widget.label,
                "index": widget.index, "options": list(widget._options_labels),
                "type": type(widget).__name__,
            })
        for child in getattr(widget, "children", ()) or ():
            walk(child)
    walk(root)
    state["repr"] = repr(target)
    for name in ("message", "policy", "spec"):
        if hasattr(target, name):
            state[name] = str(getattr(target, name))
    summary = getattr(target, "summary", None)
    if isinstance(summary, dict):
        state["summary"] = {k: str(v) for k, v in summary.items()}
    if extra:
        state["extra"] = extra(target)
    return state
"""


class KernelProbe:
    """A client of a running kernel (beside the notebook's own), for reading state.

    Its requests are silent: no execution count, no history, and their output
    goes to this client only, never into the notebook.
    """

    def __init__(self, connection_file: Path, kernel_id: str) -> None:
        from jupyter_client import BlockingKernelClient

        self.kernel_id = kernel_id
        self.client = BlockingKernelClient(connection_file=str(connection_file))
        self.client.load_connection_file()
        self.client.start_channels()

    def run(self, code: str, timeout: float = 60.0) -> str:
        """Run ``code``; its stdout. Raises with the traceback when it fails."""
        out: list[str] = []
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                out.append(content["text"])
            elif kind == "error":
                errors.append("\n".join(content.get("traceback", [])) or content.get("evalue", ""))

        reply = self.client.execute_interactive(
            code,
            silent=True,
            store_history=False,
            allow_stdin=False,
            output_hook=hook,
            timeout=timeout,
        )
        if reply["content"]["status"] != "ok" or errors:
            text = "\n".join(errors) or json.dumps(reply["content"])[:2000]
            raise HarnessError(f"the kernel failed to run a probe:\n{_strip_ansi(text)}")
        return "".join(out)

    def state(self, variable: str, extra: str | None = None, timeout: float = 60.0) -> dict:
        """What the widget object named ``variable`` holds (see ``_PROBE_SOURCE``).

        ``extra``: the source of a function of that object whose (JSON-able)
        value comes back as ``state["extra"]``.
        """
        if not variable.isidentifier():
            raise ValueError(f"not a variable name: {variable!r}")
        body = _PROBE_SOURCE + f"\n_extra = {extra or 'None'}\n"
        body += f"print({_PROBE_MARK!r} + json.dumps(_probe(__target__, _extra), default=str))\n"
        code = f"exec({body!r}, {{'__target__': {variable}}})"
        text = self.run(code, timeout=timeout)
        for line in text.splitlines():
            if line.startswith(_PROBE_MARK):
                return json.loads(line[len(_PROBE_MARK) :])
        raise HarnessError(f"the probe printed no state: {text[-2000:]!r}")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.stop_channels()


def _excerpt(text: str, head: int = 200, tail: int = 800) -> str:
    """The start and the end (where a traceback names its error) of a long text."""
    return text if len(text) <= head + tail else f"{text[:head]} [...] {text[-tail:]}"


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# -- the browser ------------------------------------------------------------


class Browser:
    """Headless Chromium with a fresh profile; records console errors and page errors."""

    def __init__(
        self,
        profile: Path,
        *,
        viewport: tuple[int, int] = (1400, 1000),
        device_scale_factor: float = 1,
    ) -> None:
        self.profile = Path(profile)
        self.viewport = viewport
        self.device_scale_factor = device_scale_factor
        self.errors: list[str] = []
        self.messages: list[str] = []
        self._playwright: Any = None
        self.context: Any = None

    def start(self) -> Browser:
        from playwright.sync_api import sync_playwright

        executable = find_chromium()
        if executable is None:
            raise HarnessError("no chromium to drive")
        self.profile.mkdir(parents=True, exist_ok=True)
        self._playwright = sync_playwright().start()
        try:
            self.context = self._playwright.chromium.launch_persistent_context(
                str(self.profile),
                executable_path=executable,
                headless=True,
                args=list(CHROMIUM_ARGS),
                viewport={"width": self.viewport[0], "height": self.viewport[1]},
                device_scale_factor=self.device_scale_factor,
                timeout=60_000,
            )
        except Exception:
            self._playwright.stop()
            self._playwright = None
            raise
        return self

    def new_page(self) -> Any:
        page = self.context.pages[0] if self.context.pages else self.context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("crash", lambda _page: self.errors.append("page crashed"))
        return page

    def _on_console(self, message: Any) -> None:
        text = f"console {message.type}: {message.text}"
        self.messages.append(text)
        if message.type == "error":
            self.errors.append(text)

    def stop(self) -> None:
        try:
            if self.context is not None:
                with contextlib.suppress(Exception):
                    self.context.close()
        finally:
            self.context = None
            if self._playwright is not None:
                with contextlib.suppress(Exception):
                    self._playwright.stop()
                self._playwright = None

    def __enter__(self) -> Browser:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# -- the notebook page ------------------------------------------------------

_PROMPTS_JS = """() => [...document.querySelectorAll('.jp-CodeCell')].map(cell => {
    const prompt = cell.querySelector('.jp-InputPrompt');
    return prompt ? prompt.textContent.trim() : '';
})"""

_WATCH_RUN_JS = """() => {
    window.__harnessRunStarted = false;
    const notebook = document.querySelector('.jp-Notebook') || document.body;
    const observer = new MutationObserver(() => {
        for (const p of notebook.querySelectorAll('.jp-InputPrompt'))
            if (p.textContent.includes('*')) {
                window.__harnessRunStarted = true;
                observer.disconnect();
                return;
            }
    });
    observer.observe(notebook, {subtree: true, childList: true, characterData: true});
}"""

_ERRORS_JS = """(texts) => {
    const found = [];
    const body = document.body.innerText;
    for (const text of texts) if (body.includes(text)) found.push(text);
    const stderr = [...document.querySelectorAll(
        '[data-mime-type="application/vnd.jupyter.stderr"]')].map(e => e.innerText.trim());
    return {texts: found, stderr};
}"""


class NotebookPage:
    """A notebook open in JupyterLab in a browser page."""

    def __init__(self, lab: JupyterLab, browser: Browser, path: str, shots: Path) -> None:
        self.lab = lab
        self.browser = browser
        self.path = path
        self.shots = Path(shots)
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page = browser.new_page()
        self._shot = 0

    def open(self, timeout: float = 90.0, deadline: Deadline | None = None) -> None:
        """Open the notebook and wait for its kernel to be idle."""
        budget = deadline.left(timeout) if deadline else timeout
        self.page.goto(self.lab.url(self.path), timeout=budget * 1000)
        self.page.locator(".jp-Notebook").first.wait_for(timeout=budget * 1000)
        kernel = wait_until(
            lambda: self.lab.session_kernel(self.path),
            "the notebook's kernel",
            timeout,
            deadline=deadline,
        )
        wait_until(
            lambda: self.lab.kernel_state(kernel) == "idle",
            "an idle kernel",
            timeout,
            deadline=deadline,
        )

    def run_all(self) -> None:
        """Run > Run All Cells, from the menu bar as a person would."""
        # Saved prompts already show numbers: a run is known to have started
        # once some prompt has shown a star.
        self.page.evaluate(_WATCH_RUN_JS)
        self.page.get_by_role("menuitem", name="Run", exact=True).click()
        self.page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    def prompts(self) -> list[str]:
        return self.page.evaluate(_PROMPTS_JS)

    def wait_for_run(self, timeout: float = 150.0, deadline: Deadline | None = None) -> None:
        """Wait until every code cell has run: each prompt shows a number, none
        a star, and the kernel is idle."""
        kernel = self.lab.session_kernel(self.path)
        end = time.monotonic() + (deadline.left(timeout) if deadline else timeout)
        self.page.wait_for_function("() => window.__harnessRunStarted", timeout=20_000)
        while True:
            prompts = self.prompts()
            idle = self.lab.kernel_state(kernel) == "idle"
            if prompts and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts) and idle:
                return
            if idle and not any("*" in p for p in prompts):
                # Run All stops at a cell that raised: the rest never run.
                failed = self.problems()
                if failed:
                    raise HarnessError("the cells stopped: " + "; ".join(failed))
            if time.monotonic() > end:
                raise HarnessError(f"the cells did not all run in time; prompts {prompts}")
            time.sleep(0.5)

    def problems(self) -> list[str]:
        """Console errors, page errors, error texts and stderr outputs in the page."""
        found = self.page.evaluate(_ERRORS_JS, list(ERROR_TEXTS))
        problems = list(self.browser.errors)
        problems += [f"page shows {text!r}" for text in found["texts"]]
        problems += [f"a cell wrote to stderr: {_excerpt(text)!r}" for text in found["stderr"]]
        return problems

    def screenshot(self, name: str, element: Any = None) -> Path:
        """A PNG of the page (or of ``element``) named ``NN-name.png`` in ``shots``."""
        self._shot += 1
        path = self.shots / f"{self._shot:02d}-{name}.png"
        target = element if element is not None else self.page
        target.screenshot(path=str(path))
        return path


# -- a widget in the page ----------------------------------------------------

#: Tags the smallest element holding a label whose text (or aria-label) is
#: ``name`` and an ``img``; returns how many such elements the page has (the
#: last is tagged).
_FIND_ROOT_JS = """([attr, name]) => {
    const norm = s => (s || '').replace(/\\s+/g, ' ').trim();
    const labels = [...document.querySelectorAll('label, [aria-label]')].filter(
        l => norm(l.textContent) === name || l.getAttribute('aria-label') === name);
    const roots = new Set();
    for (const label of labels) {
        let e = label.parentElement;
        while (e && !e.querySelector('img')) e = e.parentElement;
        if (e) roots.add(e);
    }
    document.querySelectorAll(`[${attr}]`).forEach(e => e.removeAttribute(attr));
    const found = [...roots];
    if (found.length) found[found.length - 1].setAttribute(attr, '1');
    return found.length;
}"""

#: Tags the control labelled ``name`` inside ``root``: the element a label
#: (text or aria-label) names, or the label's closest ancestor holding a control.
_FIND_CONTROL_JS = """(root, [attr, name]) => {
    const norm = s => (s || '').replace(/\\s+/g, ' ').trim();
    const controls = '[role=slider], select, input, button, [role=radio], [role=tab], ' +
        '[role=combobox], [role=listbox]';
    for (const e of root.querySelectorAll(`[${attr}]`))
        if (e.getAttribute(attr) === name) e.removeAttribute(attr);
    const mark = e => { e.setAttribute(attr, name); return true; };
    for (const e of root.querySelectorAll('[aria-label]'))
        if (e.getAttribute('aria-label') === name && e.matches(controls))
            return mark(e.parentElement);
    for (const label of root.querySelectorAll('label')) {
        if (norm(label.textContent) !== name) continue;
        let e = label.parentElement;
        while (e && e !== root.parentElement) {
            if (e.querySelector(controls)) return mark(e);
            e = e.parentElement;
        }
    }
    return false;
}"""

#: What a control shows: a slider's readout (or aria-valuetext) and position,
#: a select's chosen option, the pressed one of a group of buttons.
_SHOWN_JS = """(el) => {
    const norm = s => (s || '').replace(/\\s+/g, ' ').trim();
    const slider = el.querySelector('[role=slider]');
    if (slider) {
        const readout = el.querySelector('[class*=readout], output');
        return {kind: 'slider',
                value: readout ? norm(readout.textContent) : slider.getAttribute('aria-valuetext'),
                index: Number(slider.getAttribute('aria-valuenow')),
                min: Number(slider.getAttribute('aria-valuemin')),
                max: Number(slider.getAttribute('aria-valuemax'))};
    }
    const select = el.querySelector('select');
    if (select) {
        const option = select.selectedOptions[0];
        return {kind: 'select', value: option ? norm(option.textContent) : null,
                index: select.selectedIndex,
                options: [...select.options].map(o => norm(o.textContent))};
    }
    const buttons = [...el.querySelectorAll('button, [role=radio], [role=tab]')];
    if (buttons.length) {
        const on = buttons.filter(b => b.getAttribute('aria-pressed') === 'true' ||
            b.getAttribute('aria-checked') === 'true' ||
            b.getAttribute('aria-selected') === 'true' || b.classList.contains('mod-active'));
        return {kind: 'buttons', value: on.length === 1 ? norm(on[0].textContent) : null,
                index: on.length === 1 ? buttons.indexOf(on[0]) : -1,
                options: buttons.map(b => norm(b.textContent)),
                aria: buttons.some(b => b.hasAttribute('aria-pressed') ||
                                        b.hasAttribute('aria-checked') ||
                                        b.hasAttribute('aria-selected'))};
    }
    return {kind: 'unknown', value: null};
}"""

#: The images inside ``root``: the SHA-256 of the bytes behind each src (a blob:
#: or data: URL), whether it decoded, its natural and shown size; and the text.
_SHOWN_IMAGES_JS = """async (root) => {
    const hex = buf => [...new Uint8Array(buf)].map(b => b.toString(16).padStart(2, '0')).join('');
    const images = [];
    for (const img of root.querySelectorAll('img')) {
        const box = img.getBoundingClientRect();
        const entry = {src: img.src.slice(0, 40), complete: img.complete,
                       naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
                       width: box.width, height: box.height, sha256: null, bytes: 0, error: null};
        try {
            const buf = await (await fetch(img.src)).arrayBuffer();
            entry.bytes = buf.byteLength;
            entry.sha256 = hex(await crypto.subtle.digest('SHA-256', buf));
        } catch (e) { entry.error = String(e); }
        images.push(entry);
    }
    return {images, text: root.innerText.replace(/\\s+/g, ''),
            devicePixelRatio: window.devicePixelRatio};
}"""

#: Records, in the page's clock, each input event (capture phase, so before any
#: handler) and each new image src once it has decoded.
_TIMING_JS = """(root) => {
    const log = window.__harnessTiming = {inputs: [], images: []};
    for (const type of ['keydown', 'pointerdown', 'pointerup', 'click', 'input', 'change'])
        document.addEventListener(type, e => log.inputs.push({type, t: e.timeStamp,
            now: performance.now()}), true);
    const seen = img => {
        const changed = performance.now(), src = img.src.slice(0, 60);
        const done = ok => () => log.images.push({changed, t: performance.now(), src, ok});
        img.decode().then(done(true), done(false));
    };
    new MutationObserver(records => {
        for (const r of records) {
            if (r.type === 'attributes' && r.target.tagName === 'IMG') seen(r.target);
            for (const n of r.addedNodes || [])
                if (n.tagName === 'IMG') seen(n);
                else if (n.querySelectorAll) n.querySelectorAll('img').forEach(seen);
        }
    }).observe(root, {attributes: true, attributeFilter: ['src'], childList: true, subtree: true});
    return true;
}"""


class WidgetView:
    """A widget shown in the page, found by a control's label (``anchor``) next
    to an image; its controls found by their labels and ARIA roles."""

    ROOT_ATTR = "data-harness-root"
    CONTROL_ATTR = "data-harness-control"

    def __init__(self, notebook: NotebookPage, anchor: str) -> None:
        self.notebook = notebook
        self.page = notebook.page
        self.anchor = anchor
        self.root = self.page.locator(f"[{self.ROOT_ATTR}]")

    def find(self, timeout: float = 60.0, deadline: Deadline | None = None) -> int:
        """Wait for the widget; how many the page shows (the last is used)."""
        return wait_until(
            lambda: self.page.evaluate(_FIND_ROOT_JS, [self.ROOT_ATTR, self.anchor]),
            f"a widget with a control labelled {self.anchor!r} and an image",
            timeout,
            0.25,
            deadline,
        )

    def control(self, name: str) -> Any:
        """The element holding the control labelled ``name``."""
        handle = self.root.element_handle(timeout=10_000)
        if not handle.evaluate(_FIND_CONTROL_JS, [self.CONTROL_ATTR, name]):
            raise HarnessError(f"no control labelled {name!r} in the widget")
        return self.root.locator(f"[{self.CONTROL_ATTR}={json.dumps(name)}]")

    def shown(self, name: str) -> dict[str, Any]:
        """What the control labelled ``name`` shows."""
        return self.control(name).evaluate(_SHOWN_JS)

    def images_and_text(self) -> dict[str, Any]:
        return self.root.evaluate(_SHOWN_IMAGES_JS)

    # moving controls, as a person does

    def press(self, name: str, key: str) -> None:
        """Focus the control labelled ``name`` (its slider handle) and press ``key``."""
        control = self.control(name)
        target = control.get_by_role("slider")
        if target.count() == 0:
            target = control.locator("select, button, input").first
        target.focus()
        self.page.keyboard.press(key)

    def drag(self, name: str, index: int) -> None:
        """Drag the handle of the slider labelled ``name`` to position ``index``
        with the mouse: press on the handle, move in steps, release."""
        control = self.control(name)
        handle = control.get_by_role("slider")
        handle.scroll_into_view_if_needed()
        geometry = handle.evaluate(
            """(h) => {
                const hb = h.getBoundingClientRect();
                let track = h.parentElement;
                while (track && track.getBoundingClientRect().width < 3 * hb.width)
                    track = track.parentElement;
                const tb = track.getBoundingClientRect();
                return {hx: hb.x + hb.width / 2, hy: hb.y + hb.height / 2,
                        left: tb.x, width: tb.width,
                        min: Number(h.getAttribute('aria-valuemin')),
                        max: Number(h.getAttribute('aria-valuemax'))};
            }"""
        )
        span = geometry["max"] - geometry["min"]
        if not 0 <= index - geometry["min"] <= span:
            raise ValueError(
                f"{name}: no position {index} in {geometry['min']}..{geometry['max']}"
            )
        x = geometry["left"] + geometry["width"] * (index - geometry["min"]) / span
        mouse = self.page.mouse
        mouse.move(geometry["hx"], geometry["hy"])
        mouse.down()
        mouse.move(x, geometry["hy"], steps=8)
        mouse.up()

    def choose(self, name: str, option: str) -> None:
        """Pick ``option`` of the control labelled ``name``: a select's option,
        or the button (or radio, or tab) of that name."""
        control = self.control(name)
        select = control.locator("select")
        if select.count():
            select.select_option(label=option)
            return
        for role in ("button", "radio", "tab"):
            target = control.get_by_role(role, name=option, exact=True)
            if target.count():
                target.click()
                return
        raise HarnessError(f"{name}: no option {option!r} to pick")

    # timing (benchmark)

    def install_timing(self) -> None:
        self.root.evaluate(_TIMING_JS)

    def timing(self) -> dict[str, list[dict[str, Any]]]:
        return self.page.evaluate("() => window.__harnessTiming")


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A notebook of code ``cells`` (no outputs) for the Python 3 kernel."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path
