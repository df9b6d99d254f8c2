"""``python manage.py restate <subcommand>``: the ``restate-web`` command with the project's
``RESTATE`` settings (``ADMIN_URL``, ``ADMIN_TOKEN``, ``WEBHOOKS``, ...)."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from restate_web import cli


class Command(BaseCommand):  # type: ignore[misc]
    help = (
        "Restate: register, deployments, prune, check, status, outbox-relay "
        "(see `restate-web --help`)."
    )
    # The subcommands talk to Restate; outbox-relay also to the project's database.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
        for name in cli.COMMAND_MODULES:
            importlib.import_module(name).register(subparsers)

    def handle(self, *args: Any, **options: Any) -> None:
        namespace = argparse.Namespace(**options)
        namespace.settings_values = getattr(settings, "RESTATE", None)
        namespace.stdout = self.stdout
        namespace.stderr = self.stderr
        namespace.django = True  # outbox-relay: the project's databases (--database ALIAS)
        status: int = options["run"](namespace)
        if status:
            raise SystemExit(status)
