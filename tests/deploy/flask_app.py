"""A Flask app for ``flask --app tests.deploy.flask_app restate ...`` in the deploy tests."""

import os

from flask import Flask

from restate_web.adapters.flask import Restate

app = Flask(__name__)
app.config["RESTATE_ADMIN_URL"] = os.environ["DEPLOY_TEST_ADMIN_URL"]
app.config["RESTATE_WEBHOOKS"] = {"stripe": "tests.deploy.hooks:stripe"}
Restate(app)
