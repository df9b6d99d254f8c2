"""A Flask app whose ``flask restate outbox-relay`` uses its Flask-SQLAlchemy style
``SQLALCHEMY_DATABASE_URI`` ($OUTBOX_SYNC_URL)."""

import os

from flask import Flask

from restate_web.adapters.flask import Restate

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["OUTBOX_SYNC_URL"]
Restate(app)
