"""The widgets in a real JupyterLab, in a real browser (Debian's Chromium via Playwright).

nbval proves the notebooks' outputs; this proves a learner can click the widgets.
"""

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


@pytest.fixture(scope="module")
def lab():
    with tempfile.TemporaryDirectory() as tmp:
        # A copy, so running the notebook in the browser never rewrites the committed one.
        shutil.copy(ROOT / "notebooks" / "00-start-here.ipynb", tmp)
        with jupyterlab(Path(tmp)) as server:
            yield server


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield page
        browser.close()


def run_all(page, base, token, name):
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset", wait_until="domcontentloaded")
    page.wait_for_selector(f"{PANEL} .jp-Notebook", state="attached", timeout=60_000)
    # Run All before the kernel is connected would be lost: wait for it to be idle.
    page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=60_000)
    # Clear the committed outputs first, so the last cell's output proves Run All finished.
    page.get_by_role("menuitem", name="Edit", exact=True).click()
    page.get_by_role("menuitem", name="Clear Outputs of All Cells", exact=True).click()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def test_status_explorer_widget_renders_and_sends(lab, page):
    base, token = lab
    run_all(page, base, token, "00-start-here.ipynb")
    panel = page.locator(PANEL)
    panel.get_by_text("clock=RealClock() in-process only").wait_for(state="attached", timeout=90_000)
    # JupyterLab renders only cells near the viewport, and outputs above keep
    # moving the widget while Run All proceeds: scroll to it until it renders.
    heading = panel.get_by_role("heading", name="Try any code")
    send = panel.get_by_role("button", name="Send")
    for _ in range(120):
        heading.scroll_into_view_if_needed()
        if send.count():
            break
        page.wait_for_timeout(500)
    send.scroll_into_view_if_needed()
    status = panel.locator(".widget-text input").first
    status.fill("407")
    status.press("Enter")
    send.click()
    output = panel.locator(".widget-output", has_text="407 Proxy Authentication Required").first
    output.wait_for(state="attached", timeout=30_000)
    assert "server: labkit-origin" in output.inner_text()
