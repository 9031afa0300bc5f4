"""Notebook 01b's mode widget in a real JupyterLab and a real browser (Debian's Chromium).

nbval proves the notebook's outputs; this proves a learner can use its widget.
"""

import pytest

from _jupyterlab import PANEL, have_chromium, notebook_page, run_all, scroll_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not have_chromium(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def test_mode_dropdown_switches_what_clients_see():
    with notebook_page("01b-portal-modes.ipynb") as page:
        run_all(page)
        panel = page.locator(PANEL)
        dropdown = panel.locator(".widget-dropdown select").first
        scroll_to(page, "3. Pick a mode", dropdown)
        dropdown.select_option("spoof")
        out = panel.locator(".widget-output", has_text="mode spoof:").first
        out.wait_for(state="attached", timeout=30_000)
        assert "a password form shown as http://news.test/status/200 itself" in out.inner_text()
        dropdown.select_option("cacheable")
        panel.locator(".widget-output", has_text="still serves it from cache").first.wait_for(
            state="attached", timeout=30_000)
