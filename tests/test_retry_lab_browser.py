"""Notebook 03's retry lab in a real JupyterLab and Chromium: pick an endpoint, see its timeline."""

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
NOTEBOOK = "03-retry-and-backoff.ipynb"


def test_retry_lab_reruns_when_the_endpoint_changes():
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
                page.get_by_role("menuitem", name="Run", exact=True).click()
                page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

                panel = page.locator(PANEL)
                # JupyterLab renders only cells near the viewport: scroll to the lab until it exists.
                heading = panel.get_by_role("heading", name="11. Your turn: the retry lab")
                about = panel.locator(".widget-html", has_text="Outcome:")
                for _ in range(180):
                    heading.scroll_into_view_if_needed()
                    if about.count():
                        break
                    page.wait_for_timeout(500)
                about.first.wait_for(state="attached", timeout=30_000)
                assert "/flaky" in about.first.inner_text()

                endpoint = panel.locator(".widget-dropdown", has_text="endpoint").locator("select").first
                endpoint.select_option(label="511 captive portal")
                # The lab reruns: the phone is told to sign in, signs in, and the retry succeeds.
                done = panel.locator(".widget-html", has_text="after 2 attempt(s)").first
                done.wait_for(state="attached", timeout=30_000)
                assert "Outcome: done" in done.inner_text()
                output = panel.locator(".widget-output", has_text="sign-in").first
                output.wait_for(state="attached", timeout=30_000)
                assert "511" in output.inner_text()
            finally:
                browser.close()
