"""The FastAPI reliability app, for uvicorn (see webapp.py)."""

from .webapp import create_fastapi_app

app = create_fastapi_app()
