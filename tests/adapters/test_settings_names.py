"""A misspelt setting name is reported in every framework, not silently ignored (README,
"Settings": one set of names everywhere; Django reports it as ``restate_web.W001``)."""

from __future__ import annotations

import os

import pytest


def test_fastapi_warns_of_a_misspelt_setting() -> None:
    from fastapi import FastAPI

    from restate_web.adapters.fastapi import Restate

    with pytest.warns(UserWarning, match="INGRES_URL.*did you mean INGRESS_URL"):
        Restate(FastAPI(), {"INGRES_URL": "http://127.0.0.1:9"})


def test_flask_warns_of_a_misspelt_config_key() -> None:
    from flask import Flask

    from restate_web.adapters.flask import Restate

    app = Flask(__name__)
    app.config["RESTATE_TIMOUT"] = 5
    with pytest.warns(UserWarning, match="TIMOUT.*did you mean TIMEOUT"):
        Restate(app)


def test_django_reports_the_same_name_as_w001() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.adapters.apps.django_project.settings")
    import django
    from django.core.checks import run_checks
    from django.test.utils import override_settings

    django.setup()
    with override_settings(RESTATE={"INGRES_URL": "http://127.0.0.1:9"}):
        messages = [m for m in run_checks() if m.id == "restate_web.W001"]
    assert messages and "INGRESS_URL" in (messages[0].hint or ""), messages


def test_known_settings_do_not_warn(recwarn: pytest.WarningsRecorder) -> None:
    from restate_web.adapters import Integration

    Integration({"INGRESS_URL": "http://127.0.0.1:9", "TIMEOUT": 3}).close()
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
