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
# The app writes one structured line per request (STRUCTURED_LOGS); gunicorn logs errors only.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# The reverse proxy's address: X-Forwarded-* from elsewhere are ignored (see PROXY_FIX).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
