"""The deploy subcommands: ``register``, ``deployments``, ``prune``, ``check``, ``status``.

Shared by ``restate-web``, ``python manage.py restate`` and ``flask restate``. The Django and
Flask entry points put their settings on the parsed namespace (``settings_values``) and their
output streams (``stdout``/``stderr``); the console script reads the environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import IO, Any, Protocol

from ..adapters._settings import RestateSettings, check_settings
from ._admin import DEFAULT_ADMIN_URL, AdminClient, AdminError
from ._durations import format_duration, parse_duration
from ._operations import (
    CheckRequirements,
    check_services,
    list_deployments,
    providers_from_webhooks,
    prune_deployments,
    register_deployment,
    server_status,
)
from ._windows import REDELIVERY_WINDOWS


class _Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


def _duration(text: str) -> Any:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def register(subparsers: Any) -> None:
    """Add the deploy subcommands to the ``restate-web`` parser (see restate_web.cli)."""

    def add(name: str, help_text: str, run: Callable[[argparse.Namespace], int]) -> Any:
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.add_argument(
            "--format", choices=("text", "json"), default="text", help="output format"
        )
        parser.add_argument(
            "--admin-url",
            help=f"Restate admin API (default: ADMIN_URL / RESTATE_ADMIN_URL, {DEFAULT_ADMIN_URL})",
        )
        parser.set_defaults(run=run)
        return parser

    parser = add(
        "register",
        "register a deployment: dry run and diff first, breaking changes and overwrites refused",
        run_register,
    )
    parser.add_argument("uri", help="the deployment's URI, e.g. https://app.example/restate/v42")
    parser.add_argument("--dry-run", action="store_true", help="show the diff, change nothing")
    parser.add_argument(
        "--breaking", action="store_true", help="allow removed handlers and type changes"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite the deployment registered under the same URI (in-flight invocations "
        "may fail with RT0016)",
    )
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--use-http-11",
        action="store_true",
        help="the endpoint speaks HTTP/1.1 only (request-response protocol)",
    )
    parser.add_argument(
        "--header",
        action="append",
        type=_header,
        default=[],
        metavar="NAME=VALUE",
        help="a header Restate sends with every request to the deployment",
    )

    add(
        "deployments",
        "every deployment with its state: active, draining (with counts) or drained",
        run_deployments,
    )

    parser = add("prune", "remove drained deployments (never active or draining)", run_prune)
    parser.add_argument("--dry-run", action="store_true", help="say what would be removed")

    parser = add(
        "check",
        "effective service settings against what the app needs (non-zero exit on failure)",
        run_check,
    )
    parser.add_argument(
        "--provider",
        action="append",
        default=[],
        # A misspelt provider is a bad argument (exit 2), never a check that passes.
        choices=sorted(REDELIVERY_WINDOWS),
        metavar="PROVIDER",
        help="a webhook provider whose events reach the services (repeatable; the configured "
        f"WEBHOOKS are added): {', '.join(sorted(REDELIVERY_WINDOWS))}",
    )
    parser.add_argument("--outbox-relay-window", type=_duration, metavar="DURATION")
    parser.add_argument("--min-idempotency-retention", type=_duration, metavar="DURATION")
    parser.add_argument("--min-inactivity-timeout", type=_duration, metavar="DURATION")
    parser.add_argument(
        "--service",
        action="append",
        default=[],
        help="check only this service (repeatable; default: every public service)",
    )

    add("status", "admin and ingress reachable, versions, registered services", run_status)


# --- plumbing -----------------------------------------------------------------------------


def _streams(args: argparse.Namespace) -> tuple[_Writer, _Writer]:
    return getattr(args, "stdout", None) or sys.stdout, getattr(args, "stderr", None) or sys.stderr


def _settings(args: argparse.Namespace) -> RestateSettings:
    values = getattr(args, "settings_values", None)
    settings, problems = check_settings(values if isinstance(values, dict) else None)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise AdminError("invalid Restate settings: " + "; ".join(str(p) for p in errors))
    return settings


def _admin(args: argparse.Namespace, settings: RestateSettings) -> AdminClient:
    url = args.admin_url or settings.admin_url or DEFAULT_ADMIN_URL
    return AdminClient(url, token=settings.admin_token)


def _emit(args: argparse.Namespace, payload: Any, lines: list[str]) -> None:
    out, _ = _streams(args)
    if args.format == "json":
        out.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    else:
        for line in lines:
            out.write(line + "\n")


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except AdminError as error:
            out, err = _streams(args)
            if args.format == "json":
                out.write(json.dumps({"error": str(error), "status": error.status}) + "\n")
            else:
                err.write(f"error: {error}\n")
            return 1

    run.__doc__ = command.__doc__
    return run


# --- subcommands --------------------------------------------------------------------------


def _prompt(args: argparse.Namespace) -> Callable[[str], bool] | None:
    if args.yes:
        return None
    _, err = _streams(args)
    stdin: IO[str] = sys.stdin
    interactive = args.format == "text" and stdin is not None and stdin.isatty()

    def ask(question: str) -> bool:
        if not interactive:
            err.write(f"{question}\nNot confirmed: pass --yes to confirm without a prompt.\n")
            return False
        err.write(f"{question} [y/N] ")
        return stdin.readline().strip().lower() in ("y", "yes")

    return ask


@_guarded
def run_register(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _admin(args, settings) as admin:
        result = register_deployment(
            admin,
            args.uri,
            force=args.force,
            breaking=args.breaking,
            dry_run=args.dry_run,
            use_http_11=args.use_http_11,
            additional_headers=dict(args.header) or None,
            confirm=_prompt(args),
        )
    lines = [f"{result.outcome}: {result.message}"]
    diff = result.plan.lines()
    if diff:
        lines.append("changes against what is registered:")
        lines += [f"  {line}" for line in diff]
    lines += [f"warning: {warning}" for warning in result.warnings]
    _emit(args, result.to_json(), lines)
    return result.exit_code


@_guarded
def run_deployments(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _admin(args, settings) as admin:
        infos = list_deployments(admin)
    lines = [
        f"{info.id}  {info.state:<8}  {info.uri}  services: {', '.join(info.services)}"
        f"  ({info.reason})"
        for info in infos
    ] or ["no deployments registered"]
    _emit(args, {"deployments": [info.to_json() for info in infos]}, lines)
    return 0


@_guarded
def run_prune(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _admin(args, settings) as admin:
        result = prune_deployments(admin, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    lines = [f"{verb} {info.id} {info.uri} (drained)" for info in result.removed]
    lines += [f"kept {info.id} {info.uri}: {info.state}, {info.reason}" for info in result.kept]
    _emit(args, result.to_json(), lines or ["no deployments registered"])
    return result.exit_code


@_guarded
def run_check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    providers = list(args.provider)
    if settings.webhooks:
        providers += providers_from_webhooks(settings.webhooks)
    requirements = CheckRequirements(
        providers=providers,
        outbox_relay_window=args.outbox_relay_window,
        min_idempotency_retention=args.min_idempotency_retention,
        min_inactivity_timeout=args.min_inactivity_timeout,
        services=args.service,
    )
    with _admin(args, settings) as admin:
        result = check_services(admin, requirements)
    lines = []
    if result.required_idempotency_retention is not None:
        lines.append(
            "required idempotency retention: "
            + format_duration(result.required_idempotency_retention)
        )
    for service in result.services:
        values = ", ".join(
            f"{field} {format_duration(value)}" for field, value in service.settings.items()
        )
        visibility = "public" if service.public else "private"
        lines.append(f"{service.name} ({service.ty}, {visibility}): {values}")
    for problem in result.problems:
        where = f"{problem.service}: " if problem.service else ""
        hint = f" ({problem.hint})" if problem.hint else ""
        lines.append(f"{problem.level.upper()}: {where}{problem.message}{hint}")
    lines.append("check failed" if result.exit_code else "check passed")
    _emit(args, result.to_json(), lines)
    return result.exit_code


@_guarded
def run_status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _admin(args, settings) as admin:
        # A cluster's ingresses are listed comma-separated: the status checks the first.
        ingress = settings.ingress_urls[0] if settings.ingress_urls else None
        result = server_status(admin, ingress)
    lines = [
        f"admin   {result.admin_url}: "
        + ("ok" if result.admin_ok else f"unreachable ({result.admin_error})"),
        f"ingress {result.ingress_url or '?'}: "
        + ("ok" if result.ingress_ok else f"unreachable ({result.ingress_error})"),
    ]
    if result.server_version:
        versions = ", ".join(str(v) for v in result.admin_api_versions)
        lines.append(f"restate-server {result.server_version} (admin API versions {versions})")
    for service in result.services:
        lines.append(
            f"  {service['name']} ({service['type']}) on {service['deployment_id']}: "
            + ", ".join(service["handlers"])
        )
    _emit(args, result.to_json(), lines)
    return result.exit_code
