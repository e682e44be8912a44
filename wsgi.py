"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from eventreg import create_app

app = create_app()
