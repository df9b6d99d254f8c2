from flask import Flask

from restate_web.adapters.flask import Restate, webhook_blueprint

from .endpoints import WEBHOOKS

app = Flask(__name__)
app.config["RESTATE_WEBHOOKS"] = WEBHOOKS
Restate(app)
app.register_blueprint(webhook_blueprint(), url_prefix="/webhooks")
