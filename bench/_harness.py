"""Shared parts of the benchmarks: a fresh database, gunicorn, and a load generator in other processes.

Every benchmark measures a baseline (a trivial JSON endpoint of the same app) in the same run
and reports its result as a ratio to it: the machine is shared and absolute times drift.
"""
import http.client
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from statistics import quantiles

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Database:
    """An empty database of a kind, migrated and seeded with the demo event; dropped on exit."""

    def __init__(self, kind):
        self.kind = kind
        self.tmp = tempfile.TemporaryDirectory(prefix="eventreg-bench-")
        # Emails are queued, not sent, during a benchmark: a badge PDF per message would be measured
        # instead of the request (production sends them from a worker thread or send-outbox).
        self.env = dict(os.environ, EVENTREG_INSTANCE_PATH=self.tmp.name, FLASK_APP="wsgi", MAIL_SEND_AT_ONCE="0",
                        # one client address sends everything here: per-address limits would measure 429s
                        RATELIMIT_ENABLED="0")
        self.env.pop("DATABASE_URL", None)
        self.schema = None
        if kind == "postgresql":
            base = os.environ.get("BENCH_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
            self.schema = f"eventreg_bench_{uuid.uuid4().hex[:10]}"
            self.admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
            with self.admin.begin() as connection:
                connection.exec_driver_sql(f"CREATE SCHEMA {self.schema}")
            self.env["DATABASE_URL"] = f"{base}?options=-csearch_path%3D{self.schema}"
        self.flask("db", "upgrade")
        self.flask("seed-demo")

    @property
    def url(self):
        if self.kind == "postgresql":
            return self.env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"sqlite:///{self.tmp.name}/eventreg.sqlite3"

    def flask(self, *args):
        subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def execute(self, sql, **params):
        engine = sa.create_engine(self.url)
        with engine.begin() as connection:
            result = connection.execute(sa.text(sql), params)
            result = result.all() if result.returns_rows else None
        engine.dispose()
        return result

    def close(self):
        if self.schema:
            with self.admin.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA {self.schema} CASCADE")
            self.admin.dispose()
        self.tmp.cleanup()


class Gunicorn:
    def __init__(self, database, workers, threads=1, config=None):
        """config: a gunicorn configuration file (e.g. the project's gunicorn.conf.py) to start from;
        the port, the workers and the log level given here override it."""
        self.port = free_port()
        args = [str(BIN / "gunicorn")] + (["--config", str(config)] if config else [])
        args += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--log-level", "warning"]
        if threads > 1:
            args += ["--worker-class", "gthread", "--threads", str(threads)]
        self.process = subprocess.Popen(args + ["wsgi:app"], cwd=ROOT, env=database.env,
                                        start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if get("127.0.0.1", self.port, "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def exchange(host, port, method, path, body=None, headers=None):
    """One request on a new connection: (status, the response with its headers, the body read)."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response, response.read()
    finally:
        connection.close()


def get(host, port, path, headers=None):
    status, response, body = exchange(host, port, "GET", path, headers=headers)
    return status, response.getheader("Set-Cookie"), body


def post(host, port, path, body, headers):
    return exchange(host, port, "POST", path, body, headers)[0]


def csrf_session(port, path):
    """A session cookie and the CSRF token of a form page, as a browser would get them."""
    status, cookie, body = get("127.0.0.1", port, path)
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1).decode()
    return cookie.split(";")[0], token


def _client_process(job, port, first_index, jobs, duration, results, start):
    """One load-generating process: `jobs` threads, each sending requests back to back once every
    client of every process is ready (start: a Barrier), so that no request is timed while another
    client process is still being forked: on a machine of two cores that shows as the server's latency."""
    import threading

    latencies, statuses, records, lock = [], {}, [], threading.Lock()

    def worker(index):
        state = job.setup(port, first_index + index)
        start.wait()
        stop_at = None if duration is None else time.perf_counter() + duration
        local_latencies, local_statuses = [], {}
        while stop_at is None or time.perf_counter() < stop_at:
            started = time.perf_counter()
            status = job.request(port, state)
            if status is None:  # a job with a fixed amount of work has done its share
                break
            local_latencies.append(time.perf_counter() - started)
            local_statuses[status] = local_statuses.get(status, 0) + 1
        with lock:
            latencies.extend(local_latencies)
            for status, count in local_statuses.items():
                statuses[status] = statuses.get(status, 0) + count
            if hasattr(job, "records"):
                records.extend(job.records(state))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((latencies, statuses, records))


def load(job, port, clients, duration, processes=2):
    """Run `clients` concurrent clients for `duration` seconds from separate processes.

    duration None: each client runs until job.request returns None (a fixed amount of work).
    A job with a records(state) method gets what it returns for each client in "records".
    """
    results = multiprocessing.Queue()
    per_process = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    start = multiprocessing.Barrier(clients + 1)
    workers = [multiprocessing.Process(target=_client_process,
                                       args=(job, port, sum(per_process[:i]), n, duration, results, start))
               for i, n in enumerate(per_process) if n]
    for worker in workers:
        worker.start()
    start.wait()
    started = time.perf_counter()
    latencies, statuses, records = [], {}, []
    for _ in workers:
        part_latencies, part_statuses, part_records = results.get()
        latencies.extend(part_latencies)
        records.extend(part_records)
        for status, count in part_statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    cuts = quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "statuses": statuses,
            "p50_ms": cuts[49] * 1000, "p99_ms": cuts[98] * 1000, "latencies": latencies,
            "records": records}


class Trivial:
    """The baseline: GET /api/v1/version, no database."""

    def setup(self, port, index):
        return None

    def request(self, port, state):
        return get("127.0.0.1", port, "/api/v1/version")[0]
