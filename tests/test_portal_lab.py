"""Notebook 01's portal widgets in a real JupyterLab and a real browser (Debian's Chromium).

nbval proves the notebook's outputs; this proves a learner can use its widgets.
"""

import pytest

from _jupyterlab import PANEL, have_chromium, notebook_page, run_all, scroll_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not have_chromium(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]

NOTEBOOK = "01-reproduce-511.ipynb"


@pytest.fixture(scope="module")
def page():
    with notebook_page(NOTEBOOK) as page:
        run_all(page)
        yield page


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
