"""Every notebook as a learner meets it: in JupyterLab, in a real browser (Debian's Chromium).

For each ``notebooks/*.ipynb`` (found by glob: the course grows while this
test stays generic): Run All, then no traceback and no unrendered widget; run
every exercise check again; use every widget; open every link an output shows.
Screenshots of the whole notebook go to ``test-artifacts/screenshots/``.

nbval proves the outputs; this proves what the learner sees and clicks.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from _jupyterlab import PANEL, ROOT, have_chromium, jupyterlab, launch_chromium, run_all

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not have_chromium(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

VERDICTS = ("Waiting for your answer", "Not yet:", "Right:")
TRACEBACK = "Traceback (most recent call last)"
# What an error output shows: IPython's traceback, or (SyntaxError) the exception line alone.
ERROR_LINE = re.compile(r"^\w*(Error|Exception)\b", re.M)
# A widget's text/plain repr, shown when the widget itself did not render.
WIDGET_REPR = re.compile(r"^\s*[A-Z]\w*\((children|value|options|description|layout|outputs)=")
UNRENDERED = ("Loading widget...", "Error displaying widget")
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# RFC 6761 names the simulator uses for its pretend network: never internet hosts.
RESERVED = (".test", ".example", ".invalid", ".localhost")

RUN_ALL_TIMEOUT = 45_000
STEP_TIMEOUT = 20_000


# -- One JupyterLab and one Chromium for the module; a fresh page and kernel per notebook

@pytest.fixture(scope="module")
def lab():
    with tempfile.TemporaryDirectory() as tmp:
        # Copies, so running them in the browser never rewrites the committed notebooks.
        shutil.copytree(ROOT / "notebooks", tmp, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        with jupyterlab(Path(tmp)) as (base, token):
            yield base, token


@pytest.fixture(scope="module")
def browser():
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


class KernelErrors:
    """Error messages the kernel publishes, read off the page's websockets.

    A widget callback's traceback goes to JupyterLab's log console, not to a
    cell, so the DOM alone would miss it.
    """

    def __init__(self, page):
        self.seen: list[str] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        msg = _kernel_message(payload)
        if not msg or msg.get("channel") != "iopub":
            return
        kind, content = msg["header"].get("msg_type"), msg.get("content") or {}
        if kind == "error":
            self.seen.append(f"{content.get('ename')}: {content.get('evalue')}")
        elif kind == "stream" and content.get("name") == "stderr" and TRACEBACK in content.get("text", ""):
            self.seen.append(content["text"].strip().splitlines()[-1])


def _kernel_message(payload) -> dict | None:
    """A message of the kernel websocket protocol, JSON (legacy) or v1 binary framing."""
    try:
        if isinstance(payload, str):
            return json.loads(payload)
        (count,) = struct.unpack_from("<Q", payload, 0)
        offsets = list(struct.unpack_from(f"<{count}Q", payload, 8)) + [len(payload)]
        part = [payload[offsets[i]:offsets[i + 1]] for i in range(min(count, 6))]
        return {"channel": part[0].decode(), "header": json.loads(part[1]), "content": json.loads(part[4])}
    except (ValueError, struct.error, IndexError, UnicodeDecodeError):
        return None  # not a kernel message (or not one this test needs)


@pytest.fixture
def notebook(request, lab, browser):
    """The notebook open in a fresh browser page, its kernel idle; the kernel is shut down after."""
    base, token = lab
    name = request.param
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors = KernelErrors(page)
    try:
        page.goto(f"{base}/lab/tree/{name}?token={token}&reset", wait_until="domcontentloaded")
        page.wait_for_selector(f"{PANEL} .jp-Notebook", state="attached", timeout=60_000)
        # Run All before the kernel is connected would be lost: wait for it to be idle.
        page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=60_000)
        # The file browser off: the screenshots give the notebook the whole width.
        page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").first.click()
        yield name, page, errors
    finally:
        context.close()
        # Each kernel runs its own loopback servers: stop it before the next notebook.
        for session in httpx.get(f"{base}/api/sessions", params={"token": token}, timeout=10).json():
            httpx.delete(f"{base}/api/sessions/{session['id']}", params={"token": token}, timeout=10)


# -- Reading the page

_STATE_JS = """(panel) => {
  const p = document.querySelector(panel);
  const code = [...p.querySelectorAll('.jp-Cell')].filter(c => c.classList.contains('jp-CodeCell'));
  const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
  const status = [...document.querySelectorAll('.jp-StatusBar-Widget')].map(e => e.textContent).join(' ');
  return {
    prompts: code.map(c => (c.querySelector('.jp-InputPrompt') || {}).textContent || ''),
    sources: code.map(c => ((c.querySelector('.cm-content') || {}).textContent || '').trim()),
    indicator: indicator ? indicator.getAttribute('data-status') : 'idle',
    idle: status.includes('Idle'),
  };
}"""


def wait_until_idle(page, timeout_ms: int = STEP_TIMEOUT, *, all_run: bool = False) -> None:
    """Wait until no cell is queued or running and the kernel is idle, stable for 0.6 s.

    ``all_run``: also until every non-empty code cell has an execution count,
    or an error output stopped Run All.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    stable = 0
    while True:
        s = page.evaluate(_STATE_JS, PANEL)
        done = s["idle"] and s["indicator"] == "idle" and not any("*" in p for p in s["prompts"])
        if done and all_run:
            numbered = all(re.search(r"\[\d+\]", p) or not src for p, src in zip(s["prompts"], s["sources"]))
            done = numbered or bool(error_outputs(page))
        stable = stable + 1 if done else 0
        if stable >= 3:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the kernel was still busy after {timeout_ms / 1000:.0f} s: {s}")
        page.wait_for_timeout(200)


_OUTPUTS_JS = """(panel) => {
  const p = document.querySelector(panel);
  const cells = [...p.querySelectorAll('.jp-Cell')];
  const rows = [];
  cells.forEach((cell, index) => {
    for (const out of cell.querySelectorAll('.jp-OutputArea-output')) {
      rows.push({index, mime: out.getAttribute('data-mime-type') || '', text: out.innerText || out.textContent || '',
                 leaf: !out.querySelector('.jp-OutputArea-output')});
    }
  });
  return rows;
}"""


def outputs(page) -> list[dict]:
    """Every output of every cell, with the cell's index in the notebook; an output
    widget's outputs too, inside the output that holds the widget (not a leaf)."""
    return page.evaluate(_OUTPUTS_JS, PANEL)


def error_outputs(page) -> list[tuple[int, str]]:
    """(cell index, last line) of every output that shows an error."""
    found = []
    for o in outputs(page):
        if not o["leaf"]:  # its own outputs are checked one by one
            continue
        text = o["text"]
        stderr = o["mime"] == "application/vnd.jupyter.stderr"
        if TRACEBACK in text or (stderr and ERROR_LINE.search(text)):
            lines = [line for line in text.strip().splitlines() if line.strip()]
            found.append((o["index"], lines[-1] if lines else text))
    return found


def unrendered_widgets(page) -> list[tuple[int, str]]:
    found = []
    for o in outputs(page):
        text = o["text"].strip()
        if any(u in text for u in UNRENDERED) or (o["mime"] == "text/plain" and WIDGET_REPR.match(text)):
            found.append((o["index"], text[:80]))
    return found


def wait_for_widgets(page, timeout_ms: int = STEP_TIMEOUT) -> None:
    """Widget views render after their cell finished; give them time, then let the check report."""
    deadline = time.monotonic() + timeout_ms / 1000
    while unrendered_widgets(page) and time.monotonic() < deadline:
        page.wait_for_timeout(250)


_BELOW_JS = """(panel) => {
  const outer = document.querySelector(panel + ' .jp-WindowedPanel-outer');
  const cells = document.querySelectorAll(panel + ' .jp-Cell');
  if (!outer || !cells.length) return 0;
  return Math.ceil(cells[cells.length - 1].getBoundingClientRect().bottom - outer.getBoundingClientRect().bottom);
}"""
MAX_SHOT_HEIGHT = 16_000  # Chromium's largest texture; a longer notebook is shot in parts


def screenshot(page, name: str, stage: str, record_property) -> list[Path]:
    """The whole notebook: JupyterLab scrolls inside its panel, not the page, so the
    viewport is made as tall as the notebook (or shot in parts when taller than that)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.evaluate("(panel) => { const o = document.querySelector(panel + ' .jp-WindowedPanel-outer'); "
                  "if (o) o.scrollTop = 0; }", PANEL)
    for _ in range(3):  # off-screen cells have estimated heights until painted: measure again
        # How far the last cell reaches below the panel (not the scroll height: the
        # notebook pads its end by a screenful, which grows with the viewport).
        extra = page.evaluate(_BELOW_JS, PANEL)
        if extra <= 0 or page.viewport_size["height"] >= MAX_SHOT_HEIGHT:
            break
        height = min(page.viewport_size["height"] + extra + 40, MAX_SHOT_HEIGHT)
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(400)
    paths = []
    while True:
        part = f"-{len(paths) + 1}" if paths or page.evaluate(_BELOW_JS, PANEL) > 0 else ""
        path = SCREENSHOTS / f"{Path(name).stem}-{stage}{part}.png"
        page.screenshot(path=str(path))
        paths.append(path)
        if page.evaluate(_BELOW_JS, PANEL) <= 0 or len(paths) >= 5:
            break
        page.evaluate("(panel) => { const o = document.querySelector(panel + ' .jp-WindowedPanel-outer'); "
                      "o.scrollTop += o.clientHeight - 200; }", PANEL)  # a little overlap between parts
        page.wait_for_timeout(400)
        below = page.evaluate(_BELOW_JS, PANEL)
        if below < 0:  # the last part: no screenful of blank under the notebook's end
            page.set_viewport_size({"width": size["width"], "height": max(size["height"],
                                                                          page.viewport_size["height"] + below + 40)})
            page.wait_for_timeout(200)
    page.set_viewport_size(size)
    for path in paths:
        record_property(f"screenshot-{stage}", str(path))
        print(f"screenshot ({stage}): {path}")
    return paths


# -- The test

@pytest.mark.parametrize("notebook", NOTEBOOKS, indirect=True)
def test_notebook_as_a_learner_lives_it(notebook, record_property):
    name, page, kernel_errors = notebook
    cells = json.loads((ROOT / "notebooks" / name).read_text())["cells"]
    started = time.monotonic()
    # Outputs are told apart by their cell's place in the page: every cell must be
    # there, not only those near the viewport (JupyterLab's default windowing keeps all).
    assert page.locator(PANEL).locator(".jp-Cell").count() == len(cells), "JupyterLab left cells out of the page"

    # 1. Run All, from cleared outputs, so that every output shown is this run's.
    run_all(page)
    wait_until_idle(page, RUN_ALL_TIMEOUT, all_run=True)
    wait_for_widgets(page)
    print(f"{name}: Run All finished in {time.monotonic() - started:.1f} s")
    screenshot(page, name, "after-run-all", record_property)

    # 2. No traceback, no unrendered widget.
    problems: list[str] = []
    for index, line in error_outputs(page):
        tags = cells[index].get("metadata", {}).get("tags", [])
        where = f"cell {index} (tags {tags})" if tags else f"cell {index}"
        problems.append(f"after Run All, {where}: {line}")
    problems += [f"after Run All, cell {i}: widget not rendered: {t!r}" for i, t in unrendered_widgets(page)]

    # 3.-5.
    problems += run_checks_again(page, name)
    problems += use_every_widget(page, name, kernel_errors)
    screenshot(page, name, "after-interactions", record_property)
    problems += open_every_link(page, name)

    print(f"{name}: {time.monotonic() - started:.1f} s in all")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def run_checks_again(page, name: str) -> list[str]:
    """Run every exercise check again (Shift-Enter in its cell): it still gives a verdict."""
    panel, problems = page.locator(PANEL), []
    # (A traceback may quote a verdict from its source line: that is no check's output.)
    checks = sorted({o["index"] for o in outputs(page)
                     if any(v in o["text"] for v in VERDICTS) and o["mime"] != "application/vnd.jupyter.stderr"})
    for index in checks:
        cell = panel.locator(".jp-Cell").nth(index)
        before = cell.locator(".jp-InputPrompt").inner_text()
        cell.locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(
                """([panel, index, before]) => {
                  const cell = document.querySelectorAll(panel + ' .jp-Cell')[index];
                  const prompt = cell.querySelector('.jp-InputPrompt').textContent;
                  return /\\[\\d+\\]/.test(prompt) && prompt !== before;
                }""", arg=[PANEL, index, before], timeout=STEP_TIMEOUT)
            wait_until_idle(page)
        except Exception as exc:  # Playwright's timeout or ours: report it with the rest
            problems.append(f"exercise check in cell {index} did not run again: {exc}")
            continue
        text = cell.locator(".jp-OutputArea").inner_text()
        if not any(v in text for v in VERDICTS) or TRACEBACK in text:
            problems.append(f"exercise check in cell {index}, run again, shows: {text[:200]!r}")
    print(f"{name}: exercise checks run again: cells {checks or 'none'}")
    return problems


def use_every_widget(page, name: str, kernel_errors: KernelErrors) -> list[str]:
    """Change every dropdown, list, radio group, slider and checkbox, then click every
    button (last: buttons act); after each, the kernel settles with no traceback.
    A widget may answer with a message; only errors count."""
    panel, problems, used = page.locator(PANEL), [], []
    errors_before = len(kernel_errors.seen)
    shown_before = set(error_outputs(page))

    def after(what: str) -> None:
        try:
            wait_until_idle(page)
        except AssertionError as exc:
            problems.append(f"{what}: {exc}")
        used.append(what)

    dropdowns = panel.locator(".widget-dropdown select")
    for i in range(dropdowns.count()):
        select = dropdowns.nth(i)
        count = select.locator("option").count()
        if count > 1:
            select.select_option(index=(select.evaluate("s => s.selectedIndex") + 1) % count)
            after(f"dropdown {i}: {select.evaluate('s => s.value')!r}")
    lists = panel.locator(".widget-select select")  # Select and SelectMultiple: a list box
    for i in range(lists.count()):
        select = lists.nth(i)
        chosen = select.evaluate("s => [...s.options].map(o => o.selected)")
        if len(chosen) > 1:
            other = chosen.index(False) if False in chosen else 0
            if select.evaluate("s => s.multiple"):  # one more besides those selected
                select.select_option(index=sorted({other, *(k for k, c in enumerate(chosen) if c)}))
            else:
                select.select_option(index=other)
            after(f"list {i}")
    radios = panel.locator(".widget-radio-box")
    for i in range(radios.count()):
        unchecked = radios.nth(i).locator("input[type=radio]:not(:checked)")
        if unchecked.count():
            unchecked.first.check()
            after(f"radio buttons {i}")
    sliders = panel.locator(".widget-slider")
    for i in range(sliders.count()):
        handle = sliders.nth(i).locator(".noUi-handle, input[type=range]").first
        readout = sliders.nth(i).locator(".widget-readout")

        def value(readout=readout):
            return readout.first.text_content().strip() if readout.count() else None

        shown = value()
        handle.scroll_into_view_if_needed()
        for key in ("ArrowRight", "ArrowLeft"):  # left when it already stands at its maximum
            handle.focus()
            page.keyboard.press(key)
            page.keyboard.press(key)
            if shown is None or value() != shown:
                break
        else:
            problems.append(f"slider {i} did not move from {shown!r} with the arrow keys")
        after(f"slider {i}: {shown} -> {value()}")
    checkboxes = panel.locator(".widget-checkbox input[type=checkbox]")
    for i in range(checkboxes.count()):
        checkboxes.nth(i).click()
        after(f"checkbox {i}")
    buttons = panel.locator("button.jupyter-button, .widget-button")
    for i in range(buttons.count()):
        if i >= buttons.count():  # a click may have replaced some widgets
            break
        button = buttons.nth(i)
        if button.is_disabled():
            continue
        label = button.inner_text().strip() or button.get_attribute("title") or "?"
        button.click()
        after(f"button {label!r}")
    page.wait_for_timeout(300)  # a callback's last output arrives
    problems += [f"after using the widgets, the kernel reported {e}"
                 for e in dict.fromkeys(kernel_errors.seen[errors_before:])]
    problems += [f"after using the widgets, cell {i}: {line}" for i, line in set(error_outputs(page)) - shown_before]
    print(f"{name}: widgets used: {used or 'none'}")
    return problems


def open_every_link(page, name: str) -> list[str]:
    """Every loopback link shown opens; no output links off this machine."""
    links = page.evaluate("""(panel) => {
      const p = document.querySelector(panel);
      const out = [...p.querySelectorAll('.jp-OutputArea a[href^="http"]')].map(a => ['output', a.href]);
      const md = [...p.querySelectorAll('.jp-MarkdownOutput a[href^="http"]')].map(a => ['markdown', a.href]);
      return out.concat(md);
    }""", PANEL)
    problems, opened, pretend, documentation = [], {}, set(), set()
    for where, url in sorted({tuple(link) for link in links}, key=lambda link: link[1]):
        host = (urlsplit(url).hostname or "").lower()
        if host in LOOPBACK:
            if url not in opened:
                status, problem = open_link(page, url)
                opened[url] = status
                if problem:
                    problems.append(f"link {url}: {problem}")
        elif where == "markdown":
            documentation.add(url)  # prose citing a reference; outputs are what a learner clicks to try
        elif host.endswith(RESERVED):
            pretend.add(url)
        else:
            problems.append(f"an output links to an internet host, unreachable offline: {url}")
    print(f"{name}: loopback links opened: {opened or 'none'}")
    if pretend:
        print(f"{name}: links to the simulator's pretend hosts (clickable, no such host): {sorted(pretend)}")
    if documentation:
        print(f"{name}: markdown links to the internet (not followed): {sorted(documentation)}")
    return problems


def open_link(page, url: str) -> tuple[int | None, str | None]:
    """The status a link answers, and what is wrong with it or None: a 200, or the
    gateway's 511 page, which is right when it offers the way to the login page."""
    try:
        r = page.request.get(url, timeout=10_000)
    except Exception as exc:  # Playwright's error for a refused or dead connection
        return None, f"did not open: {str(exc).splitlines()[0]}"
    if r.status == 200:
        return 200, None
    if r.status == 511:
        if re.search(r"<a\b[^>]*href=\"[^\"]*login", r.text(), re.I):
            return 511, None
        return 511, "511 without a link to the login page"
    return r.status, f"answered {r.status} {r.status_text}"
