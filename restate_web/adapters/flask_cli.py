"""``flask restate <subcommand>``: the ``restate-web`` command with the app's ``RESTATE_*``
config, registered through the ``flask.commands`` entry point (only Flask imports this module)."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import cli
from ._settings import ENV_PREFIX


@click.command(
    "restate",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
    help="Restate: register, deployments, prune, check, status, outbox-relay "
    "(see `restate-web --help`).",
)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def restate(argv: tuple[str, ...]) -> None:
    values: dict[str, Any] = {
        key[len(ENV_PREFIX) :]: value
        for key, value in current_app.config.items()
        if key.startswith(ENV_PREFIX)
    }
    parser = cli.build_parser("flask restate")
    args = parser.parse_args(list(argv))
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        raise SystemExit(2)
    args.settings_values = values
    # outbox-relay: the app's Flask-SQLAlchemy database unless --database-url says otherwise.
    args.sqlalchemy_url = current_app.config.get("SQLALCHEMY_DATABASE_URI")
    status: int = run(args)
    if status:
        raise SystemExit(status)
