"""Our HAR 1.2 is read by a real browser tool: Chromium (via Playwright) replays it."""

import json
from pathlib import Path

import httpx
import pytest

from labkit import Capture, Simulator

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (/usr/bin/chromium)"),
]


def test_chromium_replays_a_captured_har(tmp_path):
    from playwright.sync_api import sync_playwright

    sim = Simulator(name="test-export-browser").serve()
    try:
        cap = Capture()
        with httpx.Client(transport=cap.transport(proxy=sim.gateway_url)) as client:
            client.get(sim.origin_url + "/status/418")  # the gateway's 511 page (captive)
        with httpx.Client(transport=cap.transport()) as client:
            client.get(sim.origin_url + "/status/201")  # straight to the origin
        urls = [ex.url for ex in cap]
        har = tmp_path / "capture.har"
        har.write_text(json.dumps(cap.to_har()))
    finally:
        sim.stop()  # nothing is listening now: only the HAR can answer

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            context = browser.new_context()
            context.route_from_har(str(har), not_found="abort")
            page = context.new_page()
            first = page.goto(urls[0])
            assert first.status == 511
            # Read the body from the response: the page's meta refresh already navigates away.
            assert "portal.labkit.test/login" in first.text()
            # A fresh tab: the first page's meta refresh may still be navigating
            # (to a URL the HAR lacks), which would race a second goto on it.
            page = context.new_page()
            second = page.goto(urls[1])
            assert second.status == 201
            assert '"status":201' in page.inner_text("body").replace(" ", "").replace("\n", "")
        finally:
            browser.close()
