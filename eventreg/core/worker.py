"""The end of a server worker process (gunicorn's worker_exit hook, gunicorn.conf.py)."""
import logging
import os
import sys

from ..extensions import db
from ..notifications.service import finish_background_sends


def exit_now(app):
    """Finish what the worker has begun and close what it holds, then end the process without Python's
    teardown of every module and object: that took 70 ms, during which the master had not yet started
    the worker's replacement (gunicorn recycles a worker every ~5,000 requests; docs/PERFORMANCE.md).

    Called while the worker's SystemExit propagates: the process ends with its exit code, so a worker
    that failed to boot still stops the master. Otherwise it returns and the exit goes on as usual.
    """
    ending = sys.exc_info()[1]
    if not isinstance(ending, SystemExit):
        return
    finish_background_sends()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()  # PostgreSQL sees each connection closed, not dropped
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    code = ending.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr, flush=True)  # as Python prints sys.exit("a message")
        code = 1
    os._exit(code or 0)
