"""`labkit serve` as a learner or a script uses it from a terminal."""

import re
import signal
import subprocess
import sys

import httpx
import pytest

from labkit.cli import build_parser

LINE = re.compile(r"^(\w+): (http://127\.0\.0\.1:\d+)$")


def start(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "labkit", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_origin_line_when_ready_and_stops_cleanly(stop):
    proc = start()
    try:
        first = proc.stdout.readline().strip()
        match = LINE.match(first)
        assert match and match.group(1) == "origin", first
        # Ready means ready: the very next request is answered.
        r = httpx.get(match.group(2) + "/status/511")
        assert r.status_code == 511
        proc.send_signal(stop)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr.read()


def test_serve_on_a_busy_port_is_a_clear_error():
    proc = start()
    try:
        url = LINE.match(proc.stdout.readline().strip()).group(2)
        port = url.rsplit(":", 1)[1]
        done = subprocess.run(
            [sys.executable, "-m", "labkit", "serve", "--port", port],
            capture_output=True, text=True, timeout=20,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert done.returncode == 2
    assert "Use port 0" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::"])
def test_serve_refuses_a_public_address_and_names_the_flag_that_allows_it(host, capsys):
    from labkit.cli import main

    assert main(["serve", "--host", host]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"labkit: error: refusing to bind {host!r}")
    flag = re.search(r"Pass (--[\w-]+)", err).group(1)
    assert flag == "--allow-non-loopback"
    # The flag the message names is one the command really has.
    assert build_parser().parse_args(["serve", "--host", host, flag]).allow_non_loopback


def test_serve_refuses_a_public_address_from_a_terminal():
    done = subprocess.run(
        [sys.executable, "-m", "labkit", "serve", "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=20,
    )
    assert done.returncode == 2
    assert "refusing to bind '0.0.0.0'" in done.stderr and "--allow-non-loopback" in done.stderr
    assert "Traceback" not in done.stderr


class FakeServer:
    """Stands in for LoopbackServer: records how it was asked to bind, binds nothing."""

    made: list[dict] = []

    def __init__(self, handler, **kwargs):
        self.kwargs = kwargs
        self.running = False
        FakeServer.made.append(kwargs)

    def start(self):
        self.running = True
        return self

    def request_stop(self):
        pass

    def stop(self):
        self.running = False

    @property
    def url(self):
        return f"http://{self.kwargs['host']}:8000"


class Interrupted:
    """threading.Event whose wait() is a Ctrl-C at once."""

    def set(self):
        pass

    def wait(self, timeout=None):
        raise KeyboardInterrupt


@pytest.mark.parametrize("args,host,allowed", [
    ([], "127.0.0.1", False),
    (["--host", "192.0.2.1", "--allow-non-loopback"], "192.0.2.1", True),
    (["--host", "127.0.0.2"], "127.0.0.2", False),
])
def test_serve_passes_host_and_allow_non_loopback_to_both_servers(monkeypatch, capsys, args, host, allowed):
    import labkit._simulator
    import labkit.cli

    FakeServer.made = []
    monkeypatch.setattr(labkit._simulator, "LoopbackServer", FakeServer)
    monkeypatch.setattr(labkit.cli.threading, "Event", Interrupted)
    monkeypatch.setattr(labkit.cli.signal, "signal", lambda *a: None)
    assert labkit.cli.main(["serve", *args]) == 0
    assert [(k["host"], k["allow_non_loopback"]) for k in FakeServer.made] == [(host, allowed)] * 2
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"origin: http://{host}:8000", f"gateway: http://{host}:8000"]
    assert ("other machines can reach" in err) is allowed


def test_console_script_is_installed():
    import shutil

    exe = shutil.which("labkit") or str(__import__("pathlib").Path(sys.executable).with_name("labkit"))
    done = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0 and "serve" in done.stdout
