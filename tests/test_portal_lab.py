"""Notebook 01's portal widgets in a real JupyterLab and a real browser (Debian's Chromium).

nbval proves the notebook's outputs; this proves a learner can use its widgets.
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
NOTEBOOK = "01-reproduce-511.ipynb"


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        # A copy, so running the notebook in the browser never rewrites the committed one.
        shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp)
        with jupyterlab(Path(tmp)) as (base, token), sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}&reset", wait_until="domcontentloaded")
            page.wait_for_selector(f"{PANEL} .jp-Notebook", state="attached", timeout=60_000)
            page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=60_000)
            # Clear the committed outputs, so the last cell's output proves Run All finished.
            page.get_by_role("menuitem", name="Edit", exact=True).click()
            page.get_by_role("menuitem", name="Clear Outputs of All Cells", exact=True).click()
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            yield page
            browser.close()


def scroll_to(page, heading: str, target):
    # JupyterLab renders only cells near the viewport: scroll until the widget exists.
    panel = page.locator(PANEL)
    for _ in range(240):
        panel.get_by_role("heading", name=heading).first.scroll_into_view_if_needed()
        if target.count():
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the widget under {heading!r} did not render")


def test_run_all_finishes(page):
    panel = page.locator(PANEL)
    panel.get_by_role("heading", name="Clean up").scroll_into_view_if_needed(timeout=120_000)
    panel.locator(".jp-OutputArea-output", has_text="stopped").last.wait_for(state="attached", timeout=120_000)


def test_mode_dropdown_switches_what_clients_see(page):
    panel = page.locator(PANEL)
    dropdown = panel.locator(".widget-dropdown select").first
    scroll_to(page, "9. How real portals get it wrong: the modes", dropdown)
    dropdown.select_option("spoof")
    out = panel.locator(".widget-output", has_text="mode spoof:").first
    out.wait_for(state="attached", timeout=30_000)
    assert "a password form shown as http://news.test/status/200 itself" in out.inner_text()
    dropdown.select_option("cacheable")
    panel.locator(".widget-output", has_text="still serves it from cache").first.wait_for(
        state="attached", timeout=30_000)


def test_sign_in_widget(page):
    panel = page.locator(PANEL)
    password = panel.locator("input[type=password]").first
    scroll_to(page, "…or sign in with a widget", password)
    password.fill("wrong")
    panel.get_by_role("button", name="Sign in").first.click()
    panel.locator(".widget-output", has_text="403: Unknown user or wrong password").first.wait_for(
        state="attached", timeout=30_000)
    password.fill("letmein")
    panel.get_by_role("button", name="Sign in").first.click()
    panel.locator(".widget-output", has_text="200: online for").first.wait_for(state="attached", timeout=30_000)
