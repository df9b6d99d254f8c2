"""The Django app config: registers the system checks and installs the context guard."""

from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class RestateConfig(AppConfig):  # type: ignore[misc]
    name = "restate_web.adapters.django"
    label = "restate_web"
    verbose_name = "Restate"
    default = True

    def ready(self) -> None:
        # ready() may run more than once: everything here is idempotent.
        import importlib

        from ...guards import install_context_guard_where_handlers_run
        from .. import _settings

        importlib.import_module(f"{__package__}.checks")  # registers the system checks
        importlib.import_module(f"{__package__}._serving_checks")
        # request.restate exists from now on: without the middleware it says to add it.
        from .middleware import _add_request_property

        _add_request_property()

        values = getattr(settings, "RESTATE", None)
        # Invalid settings are reported by `manage.py check`, not raised here.
        parsed, _ = _settings.check_settings(values if isinstance(values, dict) else None)
        if parsed.guard_contexts:
            install_context_guard_where_handlers_run()
