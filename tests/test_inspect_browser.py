"""Notebook 02's side-by-side widget in a real JupyterLab and Chromium: pick, send, compare."""

import shutil
import tempfile
from pathlib import Path

import pytest

from _jupyterlab import ROOT, have_chromium, jupyterlab, launch_chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not have_chromium(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
NOTEBOOK = "02-511-vs-401.ipynb"


def test_compare_widget_renders_and_sends():
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        # A copy, so running it in the browser never rewrites the committed notebook.
        shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp)
        with jupyterlab(Path(tmp)) as (base, token), sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}&reset", wait_until="domcontentloaded")
                page.wait_for_selector(f"{PANEL} .jp-Notebook", state="attached", timeout=60_000)
                page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=60_000)
                page.get_by_role("menuitem", name="Edit", exact=True).click()
                page.get_by_role("menuitem", name="Clear Outputs of All Cells", exact=True).click()
                page.get_by_role("menuitem", name="Run", exact=True).click()
                page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

                panel = page.locator(PANEL)
                # JupyterLab renders only cells near the viewport: scroll to the widget until it exists.
                heading = panel.get_by_role("heading", name="6. Side by side")
                send = panel.get_by_role("button", name="Send both")
                for _ in range(180):
                    heading.scroll_into_view_if_needed()
                    if send.count():
                        break
                    page.wait_for_timeout(500)
                send.scroll_into_view_if_needed()
                # It sent once when it was created: the 511 pane already shows the gateway's answer.
                panel.locator(".widget-output", has_text="answered by: gateway").first.wait_for(
                    state="attached", timeout=30_000)

                right = panel.locator(".widget-dropdown select").nth(1)
                right.select_option(label="511 for every unhandled exception (seed page)")
                send.click()
                pane = panel.locator(".widget-output", has_text="511-from-origin").first
                pane.wait_for(state="attached", timeout=30_000)
                assert "server: uvicorn" in pane.inner_text()
                table = panel.locator(".widget-output table", has_text="can a retry help?").first
                table.wait_for(state="attached", timeout=30_000)
                assert "511 for every unhandled exception (seed page)" in table.inner_text()
            finally:
                browser.close()
