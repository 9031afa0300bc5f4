"""A real browser behind the gateway: Debian's Chromium with --proxy-server."""

import os

import pytest

from labkit import Simulator, VirtualClock

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]

URL = "http://news.test/status/200"


@pytest.fixture(scope="module")
def network():
    s = Simulator(clock=VirtualClock(), name="test-browser-portal").serve()
    yield s
    s.stop()


@pytest.fixture
def sim(network):
    # One network and one browser for the module (Chromium takes seconds to start);
    # every test starts with all devices captive and the default mode.
    network.gateway.portal.reset()
    network.gateway.mode = "rfc6585"
    return network


@pytest.fixture(scope="module")
def browser(network):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync",
            f"--proxy-server={network.gateway_url}",
            # Try plain http:// as asked, without an HTTPS-first detour.
            "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
        ])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()  # fresh cookies and cache per test
    yield context.new_page()
    context.close()


def test_browser_sees_511_follows_the_link_signs_in_and_loads_the_origin(sim, page):
    response = page.goto(URL, wait_until="commit")
    assert response.status == 511
    assert response.headers["via"] == "1.1 labkit-gateway"
    # The meta refresh (or the link) takes the browser to the portal.
    page.wait_for_url("http://portal.labkit.test/login**", timeout=10_000)
    assert page.title() == "Sign in to the network"

    page.fill("input[name=user]", "guest")
    page.fill("input[name=password]", "wrong")
    page.click("#sign-in")
    page.wait_for_selector("#error", timeout=10_000)
    assert "wrong password" in page.inner_text("#error")
    assert sim.gateway.portal.state("127.0.0.1").captive

    page.fill("input[name=password]", "letmein")
    with page.expect_request("http://portal.labkit.test/login") as posted:
        page.click("#sign-in")
    # Chromium names the form's origin; the portal's cross-site check lets its own through.
    assert posted.value.header_value("origin") == "http://portal.labkit.test"
    page.wait_for_selector("#remaining", timeout=10_000)
    assert page.title() == "You are online"
    assert not sim.gateway.portal.state("127.0.0.1").captive

    content = page.goto(URL)
    assert content.status == 200
    assert content.headers["server"] == "labkit-origin"
    assert content.headers["via"] == "1.1 labkit-gateway"
    assert '"status":200' in page.content().replace(" ", "")
    # The browser was device 127.0.0.1; another address stays captive.
    assert sim.gateway.portal.state("127.0.0.2").captive


def test_browser_link_on_the_511_page_without_refresh(sim, page):
    """Follow the 511's link by clicking it, as a person would if refresh were off."""
    # The gateway's 511 body (fetched through the proxy from Python), rendered
    # without its meta refresh so only the link can move on.
    with sim.proxy_client(device="127.0.0.1") as client:
        resp = client.get(URL, headers={"accept": "text/html"})
    assert resp.status_code == 511
    html = resp.text.replace('<meta http-equiv="refresh"', '<meta data-was-refresh')
    page.route(URL, lambda route: route.fulfill(status=511, body=html, content_type="text/html"))
    page.goto(URL)
    page.click("a#login")
    page.wait_for_url("http://portal.labkit.test/login", timeout=10_000)
    assert page.locator("form input[type=password]").count() == 1


def test_browser_https_before_sign_in_shows_no_page(sim, page):
    with pytest.raises(Exception, match="ERR_TUNNEL_CONNECTION_FAILED"):
        page.goto("https://news.test/")


@pytest.mark.parametrize("mode,final_host", [("redirect", "portal.labkit.test"), ("redirect-307", "portal.labkit.test"),
                                            ("spoof", "news.test")])
def test_browser_in_misbehaving_modes(sim, page, mode, final_host):
    """redirect (302 or 307): the address bar moves to the portal; spoof: the form appears under news.test."""
    sim.gateway.mode = mode
    response = page.goto(URL)
    assert response.status == 200
    assert page.url.split("/")[2] == final_host
    assert page.locator("input[type=password]").count() == 1


EVIL = "http://evil.example/trap.html"


def test_browser_a_page_on_another_site_cannot_sign_the_device_out(sim, page):
    """A real cross-site form POST: Chromium sends Origin: http://evil.example, the portal refuses."""
    sim.gateway.portal.sign_in("127.0.0.1", "guest", "letmein")
    trap = ('<form id="f" method="post" action="http://portal.labkit.test/logout"></form>'
            '<script>document.getElementById("f").submit()</script>')
    page.route(EVIL, lambda route: route.fulfill(status=200, body=trap, content_type="text/html"))
    with page.expect_response("http://portal.labkit.test/logout") as answer:
        page.goto(EVIL)
    assert answer.value.status == 403
    assert answer.value.request.header_value("origin") == "http://evil.example"
    page.wait_for_selector("h1", timeout=10_000)
    assert page.title() == "Cross-site request refused"
    assert not sim.gateway.portal.state("127.0.0.1").captive  # still signed in


def test_browser_another_site_cannot_frame_the_portal(sim, page):
    framer = '<iframe id="portal" src="http://portal.labkit.test/login"></iframe>'
    page.route(EVIL, lambda route: route.fulfill(status=200, body=framer, content_type="text/html"))
    with page.expect_response("http://portal.labkit.test/login") as answer:
        page.goto(EVIL)
    assert answer.value.headers["content-security-policy"] == "frame-ancestors 'none'"
    # goto() waited for the load event, which waits for the frame: Chromium
    # put its error page there instead of the form.
    assert page.frame_locator("#portal").locator("input[type=password]").count() == 0
    # The same page opened on its own is the sign-in form.
    page.goto("http://portal.labkit.test/login")
    assert page.locator("input[type=password]").count() == 1
