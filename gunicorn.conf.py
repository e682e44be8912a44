"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`. Environment overrides win."""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, one more than the cores: measured best for sign-up and check-in on 2 cores
# (docs/PERFORMANCE.md); the app is CPU-bound and its database calls are short.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
# Batch badge PDFs of a few hundred pages take tens of seconds; scans take milliseconds.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# WeasyPrint keeps caches per process: recycle workers now and then so memory stays flat.
max_requests = 5000
max_requests_jitter = 500
# The app is imported once, in the master, and each worker is a fork of it: a worker started to replace
# a recycled one (every ~5,000 requests) took 1.2-1.3 s of CPU importing Flask, SQLAlchemy, WeasyPrint
# and the app, a tenth of a core's time at a thousand requests a second (docs/PERFORMANCE.md). The
# price: a code change needs a restart of the master, not a HUP.
preload_app = True
# The app writes one structured line per request (STRUCTURED_LOGS); gunicorn logs errors only.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# The reverse proxy's address: X-Forwarded-* from elsewhere are ignored (see PROXY_FIX).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27's control interface is unused here, and its socket has one default path per user:
# two servers on one machine (a deployment and a benchmark, two test runs) would take each other's.
control_socket_disable = True


# The hooks below work on the app of `wsgi.py`: serve it as `wsgi:app`.
def post_fork(server, worker):
    """A worker opens its own database connections: none made in the master is shared across the fork
    (SQLAlchemy, "Using Connection Pools with Multiprocessing or os.fork()")."""
    from wsgi import app

    from eventreg.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def worker_exit(server, worker):
    if os.getpid() != worker.pid:
        return  # gunicorn also calls this in the master, for a worker that is gone already
    from wsgi import app

    from eventreg.core.worker import exit_now

    exit_now(app)
