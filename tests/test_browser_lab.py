"""The widgets in a real JupyterLab, in a real browser (Debian's Chromium via Playwright).

nbval proves the notebooks' outputs; this proves a learner can click the widgets,
and answer an exercise after Run All.
"""

import pytest

from _jupyterlab import PANEL, have_chromium, notebook_page, run_all, scroll_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not have_chromium(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def test_status_explorer_and_the_exercise_after_run_all():
    with notebook_page("00-start-here.ipynb") as page:
        run_all(page)
        panel = page.locator(PANEL)
        # The exercise's check is the last cell with an output: Run All got there, and waits for an answer.
        panel.locator(".jp-OutputArea-output", has_text="Waiting for your answer").first.wait_for(
            state="attached", timeout=90_000)
        send = panel.get_by_role("button", name="Send")
        scroll_to(page, "7. Try any code", send)
        send.scroll_into_view_if_needed()
        status = panel.locator(".widget-text input").first
        status.fill("407")
        status.press("Enter")
        send.click()
        output = panel.locator(".widget-output", has_text="407 Proxy Authentication Required").first
        output.wait_for(state="attached", timeout=30_000)
        assert "server: labkit-origin" in output.inner_text()

        # Answer wrong, then right, with Shift-Enter: the clients are still open, so a hint, then Right.
        exercise = panel.locator(".jp-CodeCell", has_text="answer = ANSWER_ME")
        scroll_to(page, "Exercise: a response with no body", exercise)
        for answer, verdict in (("200", "Not yet: that code came back with a body"), ("204", "Right: 204")):
            editor = panel.locator(".jp-CodeCell", has=page.locator(".cm-content", has_text="answer =")).first
            editor.locator(".cm-content").click()
            page.keyboard.press("Control+A")
            page.keyboard.type(f"answer = {answer}")
            page.keyboard.press("Shift+Enter")
            page.keyboard.press("Shift+Enter")
            panel.locator(".jp-OutputArea-output", has_text=verdict).first.wait_for(state="attached", timeout=30_000)
        assert not panel.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']").count()
        # jupyterlab-settings/overrides.json keeps the news pop-up off the notebook.
        assert page.get_by_text("official Jupyter news").count() == 0
