"""Notebook 02's side-by-side widget in a real JupyterLab and Chromium: pick, send, compare."""

import pytest

from _jupyterlab import PANEL, have_chromium, notebook_page, run_all, scroll_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not have_chromium(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def test_compare_widget_renders_and_sends():
    with notebook_page("02-511-vs-401.ipynb") as page:
        run_all(page)
        panel = page.locator(PANEL)
        send = panel.get_by_role("button", name="Send both")
        scroll_to(page, "6. Side by side", send)
        send.scroll_into_view_if_needed()
        # It sent once when it was created: the 511 pane already shows the gateway's answer.
        panel.locator(".widget-output", has_text="answered by: gateway").first.wait_for(
            state="attached", timeout=30_000)

        right = panel.locator(".widget-dropdown select").nth(1)
        right.select_option(label="511 for every unhandled exception (seed page)")
        send.click()
        pane = panel.locator(".widget-output", has_text="511-without-link").first
        pane.wait_for(state="attached", timeout=30_000)
        assert "server: uvicorn" in pane.inner_text()
        table = panel.locator(".widget-output table", has_text="can a retry help?").first
        table.wait_for(state="attached", timeout=30_000)
        assert "511 for every unhandled exception (seed page)" in table.inner_text()
