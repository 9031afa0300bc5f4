"""`labkit serve` as a learner or a script uses it from a terminal."""

import re
import signal
import subprocess
import sys

import httpx
import pytest

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


def test_serve_refuses_a_public_address():
    done = subprocess.run(
        [sys.executable, "-m", "labkit", "serve", "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=20,
    )
    assert done.returncode == 2
    assert "Refusing to bind '0.0.0.0'" in done.stderr and "Traceback" not in done.stderr


def test_console_script_is_installed():
    import shutil

    exe = shutil.which("labkit") or str(__import__("pathlib").Path(sys.executable).with_name("labkit"))
    done = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0 and "serve" in done.stdout
