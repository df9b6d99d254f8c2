from fastapi import FastAPI

from restate_web.adapters.fastapi import Restate, webhook_router

from .endpoints import WEBHOOKS

app = FastAPI()
Restate(app, {"WEBHOOKS": WEBHOOKS})
app.include_router(webhook_router(), prefix="/webhooks")
