"""Notebook 01's portal widgets in a real JupyterLab and a real browser (Debian's Chromium).

nbval proves the notebooks' outputs; this proves a learner can use its widgets.
"""

import pytest

from _jupyterlab import PANEL, have_chromium, notebook_page, run_all, scroll_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not have_chromium(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def page():
    with notebook_page("01-reproduce-511.ipynb") as page:
        run_all(page)
        yield page


def test_run_all_finishes(page):
    panel = page.locator(PANEL)
    panel.get_by_role("heading", name="Key points").scroll_into_view_if_needed(timeout=120_000)
    # The last cell shows the session of exercise 2, still running while the exercise waits.
    panel.locator(".jp-OutputArea-output", has_text="'seconds-remaining': 2400").last.wait_for(
        state="attached", timeout=120_000)
    assert not panel.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()


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

