"""The app under gunicorn with the project's own gunicorn.conf.py: loaded once in the master, workers forked
from it and recycled (max_requests), each with its own database connections, ending without teardown."""
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def server(database_url, tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = dict(os.environ, DATABASE_URL=database_url, EVENTREG_INSTANCE_PATH=str(tmp_path), SECRET_KEY="server test")
    with open(log, "w") as output:
        # Recycled every ~20 requests: a test-sized version of the configured 5,000. A worker that gunicorn's
        # SIGTERM reaches while it boots (before it sets its own handlers) misses it and is killed after
        # the graceful timeout: 30 s configured, 5 s here, so the test never waits that long.
        process = subprocess.Popen([str(GUNICORN), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                                    "--workers", "2", "--max-requests", "20", "--max-requests-jitter", "5",
                                    "--graceful-timeout", "5", "wsgi:app"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                get(port, "/api/v1/version")
                break
            except OSError:
                time.sleep(0.1)
        try:
            yield port, log
        finally:
            process.terminate()
            assert process.wait(timeout=30) == 0


def test_recycled_workers_keep_answering_with_their_own_database_connections(server):
    port, log = server
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: get(port, "/healthz"), range(200)))
    assert [status for status, _ in answers] == [200] * 200, answers
    text = log.read_text()
    assert text.count("Booting worker") >= 6, text  # the two first and their replacements (every 20-25)
    assert "Traceback" not in text and "Exception" not in text and "Control socket" not in text, text


def test_a_worker_ends_with_the_exit_code_it_was_given(tmp_path):
    """exit_now() skips Python's teardown but not the code: gunicorn stops when a worker fails to boot (3)."""
    script = ("import sys\n"
              "from eventreg import create_app\n"
              "from eventreg.core.worker import exit_now\n"
              "app = create_app()\n"
              "exit_now(app)  # no exit under way: returns\n"
              "print('still here', flush=True)\n"
              "try:\n"
              "    sys.exit(int(sys.argv[1]) if sys.argv[1].isdigit() else sys.argv[1])\n"
              "finally:\n"
              "    exit_now(app)\n"
              "    print('not reached', flush=True)\n")
    env = dict(os.environ, EVENTREG_INSTANCE_PATH=str(tmp_path), SECRET_KEY="server test")
    for code in (0, 3):
        ended = subprocess.run([sys.executable, "-c", script, str(code)], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=60)
        assert (ended.returncode, ended.stdout) == (code, "still here\n"), ended.stderr
    ended = subprocess.run([sys.executable, "-c", script, "cannot boot"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=60)
    assert (ended.returncode, ended.stdout, ended.stderr.strip()) == (1, "still here\n", "cannot boot")
