"""eventreg: event registration and on-site check-in."""
import os
from pathlib import Path

from flask import Flask

from config import ProductionConfig, config_from_env

from .db import configure_sqlite, is_sqlite
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .i18n import select_locale

BASE_DIR = Path(__file__).resolve().parent.parent


def create_app(config_class=None, **overrides):
    """Build the application: config, extensions, blueprints, CLI."""
    config_class = config_class or config_from_env()
    app = Flask(
        __name__,
        instance_path=os.environ.get("EVENTREG_INSTANCE_PATH", str(BASE_DIR / "instance")),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    if issubclass(config_class, ProductionConfig):
        config_class.check(app)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'eventreg.sqlite3'}"

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    login_manager.init_app(app)
    limiter.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says what it is for
    with app.app_context():
        if is_sqlite(db.engine):
            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    if app.config.get("PROXY_FIX"):
        # Behind nginx: the client's address (rate limits, logs) and https come from its headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    from .core.security import configure_logging, init_security

    init_security(app)
    configure_logging(app)
    _register_models()
    _register_blueprints(app)
    _register_template_helpers(app)
    return app


def _register_models():
    # Import every feature's models so that Alembic and relationships see all tables.
    from . import audit as _audit  # noqa: F401
    from .attestations import models as _attestations  # noqa: F401
    from .auth import models as _auth  # noqa: F401
    from .badges import models as _badges  # noqa: F401
    from .checkin import models as _checkin  # noqa: F401
    from .events import models as _events  # noqa: F401
    from .notifications import models as _notifications  # noqa: F401
    from .registration import models as _registration  # noqa: F401


def _register_blueprints(app):
    from . import api, attestations, auth, badges, checkin, core, events, notifications, organizer, registration

    for package in (core, events, registration, auth, badges, checkin, notifications, api, attestations,
                    organizer):
        app.register_blueprint(package.bp)
    if app.config.get("BENCH_ENDPOINTS"):
        from .core import bench

        app.register_blueprint(bench.bp)
    core.views.register_error_pages(app)

    @login_manager.user_loader
    def load_user(user_id):
        from .auth.models import User
        return db.session.get(User, int(user_id))


def _register_template_helpers(app):
    from flask_babel import format_date

    from .i18n import current_language
    from .registration.validators import format_phone, mask_iin

    app.jinja_env.filters.update(phone=format_phone, mask_iin=mask_iin, date_long=lambda d: format_date(d, "long"))
    app.jinja_env.globals.update(current_language=current_language, languages=app.config["LANGUAGES"])

