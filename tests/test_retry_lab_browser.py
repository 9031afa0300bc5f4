"""Notebook 03's retry lab in a real JupyterLab and Chromium: pick an endpoint, see its timeline."""

import pytest

from _jupyterlab import PANEL, have_chromium, notebook_page, run_all, scroll_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not have_chromium(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def test_retry_lab_reruns_when_the_endpoint_changes():
    with notebook_page("03-retry-and-backoff.ipynb") as page:
        run_all(page)
        panel = page.locator(PANEL)
        about = panel.locator(".widget-html", has_text="Outcome:")
        scroll_to(page, "11. Your turn: the retry lab", about)
        # Attached is not yet laid out: JupyterLab skips rendering cells off screen,
        # and their text reads empty until the widget itself is scrolled to.
        about.first.scroll_into_view_if_needed()
        page.wait_for_function("(el) => el.innerText.includes('/flaky')", arg=about.first.element_handle(),
                               timeout=20_000)
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
