"""The widgets in a real JupyterLab, in a real browser (Debian's Chromium via Playwright).

nbval proves the notebooks' outputs; this proves a learner can click the widgets.
"""

import pytest

from _jupyterlab import PANEL, have_chromium, notebook_page, run_all, scroll_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not have_chromium(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def test_status_explorer_widget_renders_and_sends():
    with notebook_page("00-start-here.ipynb") as page:
        run_all(page)
        panel = page.locator(PANEL)
        panel.get_by_text("clock=RealClock() in-process only").wait_for(state="attached", timeout=90_000)
        send = panel.get_by_role("button", name="Send")
        scroll_to(page, "Try any code", send)
        send.scroll_into_view_if_needed()
        status = panel.locator(".widget-text input").first
        status.fill("407")
        status.press("Enter")
        send.click()
        output = panel.locator(".widget-output", has_text="407 Proxy Authentication Required").first
        output.wait_for(state="attached", timeout=30_000)
        assert "server: labkit-origin" in output.inner_text()
        # jupyterlab-settings/overrides.json keeps the news pop-up off the notebook.
        assert page.get_by_text("official Jupyter news").count() == 0
