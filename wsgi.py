"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import gc

from eventreg import create_app

app = create_app()

# What importing and creating the app made (about 200,000 objects) lives as long as the worker: frozen,
# the collector no longer walks it on every full collection, which paused a worker for 75-80 ms
# in the middle of a scan every few thousand check-ins (docs/PERFORMANCE.md, "Check-in").
gc.freeze()
