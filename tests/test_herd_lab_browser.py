"""Notebook 04's herd lab in a real JupyterLab and Chromium: tick a schedule, see it simulated."""

import pytest

from _jupyterlab import PANEL, have_chromium, notebook_page, run_all, scroll_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not have_chromium(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def test_ticking_a_schedule_adds_it_to_the_plot_and_its_description():
    with notebook_page("04-thundering-herd.ipynb") as page:
        run_all(page)
        panel = page.locator(PANEL)
        help_line = panel.locator(".widget-html", has_text="tick every one to compare")
        scroll_to(page, "5. The widget", help_line)
        described = panel.locator(".widget-output", has_text="The plot shows").first
        described.wait_for(state="attached", timeout=60_000)
        assert "constant peaks at" not in described.inner_text()
        # A plain click ticks a box: no Ctrl-click to keep the others.
        panel.locator(".widget-checkbox", has_text="constant").locator("input").first.click()
        panel.locator(".widget-output", has_text="constant peaks at").first.wait_for(
            state="attached", timeout=60_000)
        assert "decorrelated peaks at" in panel.locator(".widget-output", has_text="The plot shows").first.inner_text()
