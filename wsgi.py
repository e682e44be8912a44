"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import gc

from babel import Locale

from eventreg import create_app

app = create_app()

# gunicorn loads this module once and forks its workers from it (preload_app): what is loaded here is
# loaded once, not again in every worker started to replace a recycled one. The date names of each
# language cost a worker's first scan in that language 12 ms.
for _language in app.config["LANGUAGES"]:
    Locale.parse(_language).months  # noqa: B018 (loads the locale's data into Babel's cache)

# What importing and creating the app made (about 200,000 objects) lives as long as the worker: frozen,
# the collector no longer walks it on every full collection, which paused a worker for 75-80 ms
# in the middle of a scan every few thousand check-ins (docs/PERFORMANCE.md, "Check-in").
gc.freeze()
