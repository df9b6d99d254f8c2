from fastapi import FastAPI

from restate_web.adapters.fastapi import install, webhook_router

from .endpoints import WEBHOOKS

app = FastAPI()
install(app, {"WEBHOOKS": WEBHOOKS})
app.include_router(webhook_router(), prefix="/webhooks")
