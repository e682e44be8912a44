from datetime import date

from flask import redirect, render_template, url_for

from ..extensions import db
from . import bp
from .models import Event
from .service import get_event_or_404


@bp.get("/")
def index():
    events = db.session.execute(
        db.select(Event).where(Event.ends_on >= date.today()).order_by(Event.starts_on)
    ).scalars().all()
    return render_template("events/index.html", events=events)


@bp.get("/events/<slug>/")
def event_page(slug):
    event = get_event_or_404(slug)
    return redirect(url_for("registration.register", slug=event.slug))
