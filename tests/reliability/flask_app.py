"""The Flask reliability app, for hypercorn's WSGI mode (see webapp.py)."""

from .webapp import create_flask_app

app = create_flask_app()
