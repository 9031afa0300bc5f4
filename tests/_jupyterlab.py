"""Run JupyterLab and Debian's Chromium for real-browser tests (see shared notes).

Playwright's Python package drives the system Chromium (never a downloaded one).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[1]
LAB_SETTINGS = ROOT / "jupyterlab-settings"


def have_chromium() -> bool:
    return Path(CHROMIUM).exists()


def launch_chromium(playwright, **kwargs):
    args = CHROMIUM_ARGS + kwargs.pop("args", [])
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(notebook_dir: Path, *, base_url: str = "/"):
    """A JupyterLab server on loopback with its own config dirs; yields (base_url, token).

    ``base_url`` mounts it under a path, as JupyterHub mounts a user's server at
    ``/user/NAME/``; the URL yielded then ends with that path (without its "/").
    """
    token = secrets.token_hex(16)
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
                   JUPYTERLAB_SETTINGS_DIR=str(tmp / "user-settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "ws"))
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--notebook-dir={notebook_dir}",
               # The overrides learners get (no news pop-up over the notebook), even in a
               # venv installed before they existed.
               f"--LabApp.app_settings_dir={LAB_SETTINGS}", f"--ServerApp.base_url={base_url}"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}" + base_url.rstrip("/")
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/status?token={token}", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start within 60 s")
                try:  # wait a little, and notice at once if the server died
                    proc.wait(timeout=0.2)
                    raise RuntimeError("JupyterLab did not start: " + proc.stderr.read())
                except subprocess.TimeoutExpired:
                    pass
            yield base, token
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"


@contextlib.contextmanager
def notebook_page(name: str):
    """Serve a copy of ``notebooks/NAME`` with JupyterLab and open it in Chromium.

    A copy, so running it in the browser never rewrites the committed notebook.
    Yields the Playwright page once the notebook is open and its kernel idle.
    """
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(ROOT / "notebooks" / name, tmp)
        with jupyterlab(Path(tmp)) as (base, token), sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base}/lab/tree/{name}?token={token}&reset", wait_until="domcontentloaded")
                page.wait_for_selector(f"{PANEL} .jp-Notebook", state="attached", timeout=60_000)
                # Run All before the kernel is connected would be lost: wait for it to be idle.
                page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=60_000)
                yield page
            finally:
                browser.close()


def run_all(page, *, clear_outputs: bool = True) -> None:
    """Run menu -> Run All Cells; first clear the committed outputs, so that the
    last cell's output proves the run finished."""
    if clear_outputs:
        page.get_by_role("menuitem", name="Edit", exact=True).click()
        page.get_by_role("menuitem", name="Clear Outputs of All Cells", exact=True).click()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def scroll_to(page, heading: str, target, *, tries: int = 240) -> None:
    """Scroll to the section ``heading`` until ``target`` exists.

    JupyterLab renders only cells near the viewport, and outputs above keep
    moving a widget while Run All proceeds, so one scroll is not enough.
    """
    section = page.locator(PANEL).get_by_role("heading", name=heading).first
    for _ in range(tries):
        section.scroll_into_view_if_needed()
        if target.count():
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the widget under {heading!r} did not render")
