from flask import current_app, jsonify, make_response, render_template
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from ..extensions import csrf, db
from . import bp

VERSION = "0.1.0"


@bp.get("/healthz")
@csrf.exempt
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers and monitors)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/api/v1/version")
def version():
    return jsonify(name="eventreg", version=VERSION)


def _error_page(status):
    def handler(_error):
        return render_template("core/error.html", status=status), status
    return handler


def _database_unavailable(error):
    """The database is down, restarting or locked for too long: say so, and let the client retry."""
    current_app.logger.warning("database unavailable: %s", error.__class__.__name__)
    db.session.rollback()
    response = make_response(render_template("core/error.html", status=503), 503)
    response.headers["Retry-After"] = "5"
    return response


def register_error_pages(app):
    for status in (400, 403, 404, 405, 413, 429, 500, 503):
        app.register_error_handler(status, _error_page(status))
    app.register_error_handler(OperationalError, _database_unavailable)
