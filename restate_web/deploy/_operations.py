"""What the deploy subcommands do, independent of how they are invoked or printed.

Each operation takes an :class:`AdminClient` and returns a result object with ``to_json()``
(for ``--format json``) and ``exit_code``; the three command-line entry points only parse
arguments and render these results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal

import httpx

from ._admin import AdminClient, AdminError
from ._durations import format_duration, parse_duration
from ._windows import REDELIVERY_WINDOWS

RT0016_WARNING = (
    "invocations in flight on the overwritten deployment may then fail with RT0016 (journal "
    "mismatch) when they replay against the new code"
)
ONE_URI_PER_RELEASE = (
    "register each release under its own URI (for example /restate/<release>) and prune the old "
    "one once it is drained"
)


def _norm_uri(uri: str) -> str:
    return uri.rstrip("/")


# --- register -----------------------------------------------------------------------------


@dataclasses.dataclass
class RegisterPlan:
    """The difference between a deployment's services and what Restate has registered."""

    uri: str
    existing_id: str | None
    """The deployment already registered under this URI, if any."""
    services_added: list[str] = dataclasses.field(default_factory=list)
    handlers_added: list[str] = dataclasses.field(default_factory=list)
    handlers_removed: list[str] = dataclasses.field(default_factory=list)
    services_removed: list[str] = dataclasses.field(default_factory=list)
    """Services the overwritten deployment has and the new code does not (same URI only)."""
    type_changes: list[str] = dataclasses.field(default_factory=list)
    schema_changes: list[str] = dataclasses.field(default_factory=list)
    setting_changes: list[str] = dataclasses.field(default_factory=list)
    """Service settings the new code declares differently from what is in effect (a new
    registration applies them, resetting any PATCHed values)."""
    services_left: dict[str, str] = dataclasses.field(default_factory=dict)
    """Services missing from the new deployment that stay on their current one (new URI)."""
    services: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    in_flight: int = 0
    """Invocations pinned to the deployment under this URI that have not completed."""

    @property
    def breaking(self) -> list[str]:
        return [
            *(f"handler removed: {name}" for name in self.handlers_removed),
            *(f"service removed: {name}" for name in self.services_removed),
            *(f"type changed: {change}" for change in self.type_changes),
        ]

    @property
    def changed(self) -> bool:
        return bool(
            self.services_added
            or self.handlers_added
            or self.breaking
            or self.schema_changes
            or (self.existing_id is None)
        )

    def lines(self) -> list[str]:
        out = [f"+ service {name}" for name in self.services_added]
        out += [f"+ handler {name}" for name in self.handlers_added]
        out += [f"- handler {name} (breaking)" for name in self.handlers_removed]
        out += [f"- service {name} (breaking)" for name in self.services_removed]
        out += [f"~ type {change} (breaking)" for change in self.type_changes]
        out += [f"~ schema {change}" for change in self.schema_changes]
        out += [f"~ setting {change}" for change in self.setting_changes]
        out += [
            f"= service {name} is not in this deployment; it stays on {dep}"
            for name, dep in self.services_left.items()
        ]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "existing_deployment": self.existing_id,
            "in_flight": self.in_flight,
            "services_added": self.services_added,
            "handlers_added": self.handlers_added,
            "handlers_removed": self.handlers_removed,
            "services_removed": self.services_removed,
            "type_changes": self.type_changes,
            "schema_changes": self.schema_changes,
            "setting_changes": self.setting_changes,
            "services_left": self.services_left,
            "breaking": self.breaking,
            "services": [service.get("name") for service in self.services],
        }


RegisterOutcome = Literal["registered", "overwritten", "unchanged", "refused", "dry-run"]


@dataclasses.dataclass
class RegisterResult:
    outcome: RegisterOutcome
    plan: RegisterPlan
    message: str
    deployment_id: str | None = None
    would: str | None = None
    """With ``dry_run``: what a real run would have done (registered, unchanged, refused, ...)."""
    warnings: list[str] = dataclasses.field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.outcome == "refused" or (self.outcome == "dry-run" and self.would == "refused"):
            return 1
        return 0

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "would": self.would,
            "deployment_id": self.deployment_id,
            "message": self.message,
            "warnings": self.warnings,
            "diff": self.plan.to_json(),
        }


def _handlers(service: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    handlers = service.get("handlers") or []
    return {h["name"]: h for h in handlers if isinstance(h, Mapping) and "name" in h}


def plan_registration(
    admin: AdminClient,
    uri: str,
    *,
    use_http_11: bool = False,
    additional_headers: Mapping[str, str] | None = None,
) -> RegisterPlan:
    """Discover what ``uri`` serves (a dry run) and diff it against what is registered."""
    existing = next(
        (d for d in admin.deployments() if _norm_uri(str(d.get("uri", ""))) == _norm_uri(uri)),
        None,
    )
    # force + breaking on the dry run so that Restate reports the new services even when they
    # would be refused: the decision is ours, made below with the user's flags.
    _, discovered = admin.register(
        uri,
        force=True,
        breaking=True,
        dry_run=True,
        use_http_11=use_http_11,
        additional_headers=additional_headers,
    )
    new_services = [s for s in discovered.get("services") or [] if isinstance(s, Mapping)]
    current = {s["name"]: s for s in admin.services() if "name" in s}
    plan = RegisterPlan(
        uri=uri,
        existing_id=str(existing["id"]) if existing else None,
        services=[dict(s) for s in new_services],
    )
    new_names = {s["name"] for s in new_services}
    for service in new_services:
        name = service["name"]
        old = current.get(name)
        if old is None:
            plan.services_added.append(name)
            continue
        same_type = old.get("ty") == service.get("ty")
        if not same_type:
            plan.type_changes.append(f"{name}: {old.get('ty')} -> {service.get('ty')}")
        for field in SETTING_FIELDS:
            before_value, after_value = old.get(field), service.get(field)
            if _duration_or_none(before_value) != _duration_or_none(after_value):
                plan.setting_changes.append(f"{name} {field} {before_value} -> {after_value}")
        if bool(old.get("public", True)) != bool(service.get("public", True)):
            plan.setting_changes.append(
                f"{name} public {old.get('public')} -> {service.get('public')}"
            )
        old_handlers, new_handlers = _handlers(old), _handlers(service)
        plan.handlers_added += [f"{name}/{h}" for h in new_handlers if h not in old_handlers]
        plan.handlers_removed += [f"{name}/{h}" for h in old_handlers if h not in new_handlers]
        for handler_name, new in new_handlers.items():
            before = old_handlers.get(handler_name)
            if before is None:
                continue
            if same_type and before.get("ty") != new.get("ty"):
                plan.type_changes.append(
                    f"{name}/{handler_name}: {before.get('ty')} -> {new.get('ty')}"
                )
            for field in ("input_json_schema", "output_json_schema"):
                if before.get(field) != new.get(field):
                    kind = field.split("_")[0]
                    plan.schema_changes.append(f"{name}/{handler_name} {kind}")
    if existing is not None:
        plan.in_flight = _pinned_counts(admin).get(str(existing["id"]), 0)
        old_names = [
            s.get("name") if isinstance(s, Mapping) else s for s in existing.get("services") or []
        ]
        plan.services_removed = [str(n) for n in old_names if n and n not in new_names]
    else:
        superseded = {str(current[n].get("deployment_id")) for n in new_names if n in current}
        for name, service in current.items():
            if name not in new_names and str(service.get("deployment_id")) in superseded:
                plan.services_left[name] = str(service.get("deployment_id"))
    return plan


Confirm = Callable[[str], bool]


def register_deployment(
    admin: AdminClient,
    uri: str,
    *,
    force: bool = False,
    breaking: bool = False,
    dry_run: bool = False,
    use_http_11: bool = False,
    additional_headers: Mapping[str, str] | None = None,
    confirm: Confirm | None = None,
) -> RegisterResult:
    """Register the deployment at ``uri`` safely (see the README's Deploying section).

    A new URI is registered unless it removes handlers or services or changes a type (refused
    without ``breaking``). An already registered URI whose handlers changed is refused without
    ``force`` (overwriting it can fail in-flight invocations with RT0016). ``confirm`` is asked
    before a breaking or forced change is applied; None means the caller already confirmed.
    """
    plan = plan_registration(
        admin, uri, use_http_11=use_http_11, additional_headers=additional_headers
    )
    result = _decide(plan, force=force, breaking=breaking)
    # "unchanged" goes on to a real, non-forced registration: Restate answers 200 and changes
    # nothing, which is reported as "unchanged" below.
    if result is not None:
        if dry_run:
            return dataclasses.replace(result, outcome="dry-run", would=result.outcome)
        if result.outcome == "refused":
            return result
    if dry_run:
        would = "overwritten" if plan.existing_id else "registered"
        return RegisterResult(
            "dry-run", plan, f"would be {would}: nothing was changed", would=would
        )
    risky = (force and plan.existing_id is not None) or bool(plan.breaking)
    if risky and confirm is not None:
        question = _risk_summary(plan)
        if not confirm(question):
            return RegisterResult("refused", plan, "not confirmed: nothing was changed")
    status, body = admin.register(
        uri,
        force=force,
        breaking=breaking or force,
        use_http_11=use_http_11,
        additional_headers=additional_headers,
    )
    deployment_id = str(body.get("id")) if body.get("id") else None
    # 1.7.12 answers a forced overwrite with 200 too; only a non-forced 200 means "unchanged".
    if status == 200 and not force:
        return RegisterResult(
            "unchanged",
            plan,
            f"{uri} is already registered as {deployment_id}; nothing changed",
            deployment_id,
        )
    outcome: RegisterOutcome = "overwritten" if plan.existing_id else "registered"
    warnings = [RT0016_WARNING] if outcome == "overwritten" else []
    if plan.services_left:
        warnings.append(
            "services left on their current deployment keep it active: "
            + ", ".join(sorted(plan.services_left))
        )
    return RegisterResult(
        outcome, plan, f"{outcome} {uri} as {deployment_id}", deployment_id, warnings=warnings
    )


def _decide(plan: RegisterPlan, *, force: bool, breaking: bool) -> RegisterResult | None:
    """The refusal or no-op for this plan, or None when it may be applied."""
    if plan.existing_id is not None:
        if not plan.changed and not force:
            return RegisterResult(
                "unchanged",
                plan,
                f"{plan.uri} is already registered as {plan.existing_id} with the same "
                "handlers; nothing changed",
                plan.existing_id,
            )
        if plan.changed and not force:
            return RegisterResult(
                "refused",
                plan,
                f"{plan.uri} is already registered as {plan.existing_id} and its handlers "
                f"changed. Overwriting it needs --force, and {RT0016_WARNING} "
                f"({plan.in_flight} in flight now). Better: {ONE_URI_PER_RELEASE}.",
                plan.existing_id,
            )
        return None
    if plan.breaking and not (breaking or force):
        return RegisterResult(
            "refused",
            plan,
            "breaking changes ("
            + "; ".join(plan.breaking)
            + "): calls to what was removed or changed will fail. Pass --breaking to register "
            "anyway.",
        )
    return None


def _risk_summary(plan: RegisterPlan) -> str:
    if plan.existing_id is not None:
        return (
            f"Overwrite deployment {plan.existing_id} at {plan.uri}? {RT0016_WARNING} "
            f"({plan.in_flight} in flight now)."
        )
    return "Register with breaking changes (" + "; ".join(plan.breaking) + ")?"


# --- deployments and prune ----------------------------------------------------------------

DeploymentStateName = Literal["active", "draining", "drained"]


@dataclasses.dataclass
class DeploymentInfo:
    id: str
    uri: str
    created_at: str
    services: list[str]
    state: DeploymentStateName
    latest_for: list[str]
    """Services for which this is the latest deployment (new invocations go here)."""
    pinned: int
    """Invocations pinned to this deployment that have not completed."""
    queued: dict[str, int]
    """Not-yet-started work (queued, scheduled, paused) targeting its services, by service."""

    @property
    def reason(self) -> str:
        if self.state == "active":
            return "latest deployment for " + ", ".join(self.latest_for)
        parts = []
        if self.pinned:
            parts.append(f"{self.pinned} invocation(s) pinned to it not completed")
        if self.queued:
            parts.append(
                "queued or scheduled work for "
                + ", ".join(f"{name} ({count})" for name, count in sorted(self.queued.items()))
            )
        return "; ".join(parts) if parts else "no invocation needs it"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uri": self.uri,
            "created_at": self.created_at,
            "services": self.services,
            "state": self.state,
            "latest_for": self.latest_for,
            "pinned_invocations": self.pinned,
            "queued_by_service": self.queued,
            "reason": self.reason,
        }


def _pinned_counts(admin: AdminClient) -> dict[str, int]:
    """Invocations not completed, by the deployment they are pinned to."""
    return {
        str(row["pinned_deployment_id"]): int(row["n"])
        for row in admin.query(
            "SELECT pinned_deployment_id, count(*) AS n FROM sys_invocation "
            "WHERE status != 'completed' AND pinned_deployment_id IS NOT NULL "
            "GROUP BY pinned_deployment_id"
        )
    }


def list_deployments(admin: AdminClient) -> list[DeploymentInfo]:
    """Every deployment with its state, decided the way Restate's own CLI decides it, plus
    queued or scheduled work (which has no pinned deployment yet) counted by target service."""
    latest: dict[str, list[str]] = {}
    for service in admin.services():
        latest.setdefault(str(service.get("deployment_id")), []).append(str(service["name"]))
    pinned = _pinned_counts(admin)
    queued = {
        str(row["target_service_name"]): int(row["n"])
        for row in admin.query(
            "SELECT target_service_name, count(*) AS n FROM sys_invocation "
            "WHERE status != 'completed' AND pinned_deployment_id IS NULL "
            "GROUP BY target_service_name"
        )
    }
    infos = []
    for deployment in admin.deployments():
        dep_id = str(deployment["id"])
        services = sorted(
            str(s.get("name") if isinstance(s, Mapping) else s)
            for s in deployment.get("services") or []
        )
        waiting = {name: queued[name] for name in services if name in queued}
        latest_for = sorted(latest.get(dep_id, []))
        state: DeploymentStateName
        if latest_for:
            state = "active"
        elif pinned.get(dep_id, 0) or waiting:
            state = "draining"
        else:
            state = "drained"
        infos.append(
            DeploymentInfo(
                id=dep_id,
                uri=str(deployment.get("uri", "")),
                created_at=str(deployment.get("created_at", "")),
                services=services,
                state=state,
                latest_for=latest_for,
                pinned=pinned.get(dep_id, 0),
                queued=waiting,
            )
        )
    infos.sort(key=lambda info: info.created_at)
    return infos


@dataclasses.dataclass
class PruneResult:
    removed: list[DeploymentInfo]
    kept: list[DeploymentInfo]
    dry_run: bool

    exit_code = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "removed": [info.to_json() for info in self.removed],
            "kept": [info.to_json() for info in self.kept],
        }


def prune_deployments(admin: AdminClient, *, dry_run: bool = False) -> PruneResult:
    """Remove drained deployments (``DELETE ?force=true``); never active or draining ones."""
    infos = list_deployments(admin)
    drained = [info for info in infos if info.state == "drained"]
    kept = [info for info in infos if info.state != "drained"]
    if not dry_run:
        for info in drained:
            admin.remove_deployment(info.id)
    return PruneResult(drained, kept, dry_run)


# --- check --------------------------------------------------------------------------------

SETTING_FIELDS = (
    "idempotency_retention",
    "journal_retention",
    "workflow_completion_retention",
    "inactivity_timeout",
    "abort_timeout",
)
# How each server-side setting is declared in the SDK (restate.Service(...) keyword).
SDK_KEYWORDS = {
    "public": "ingress_private",
    "idempotency_retention": "idempotency_retention",
    "journal_retention": "journal_retention",
    "workflow_completion_retention": "workflow_retention",  # on @workflow.main(...)
    "inactivity_timeout": "inactivity_timeout",
    "abort_timeout": "abort_timeout",
}


@dataclasses.dataclass
class Problem:
    level: Literal["error", "warning"]
    service: str | None
    message: str
    hint: str = ""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class ServiceSettings:
    name: str
    ty: str
    deployment_id: str
    public: bool
    settings: dict[str, timedelta | None]
    declared: dict[str, Any] | None = None
    """What the deployment declares (a re-discovery), when it could be read."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.ty,
            "deployment_id": self.deployment_id,
            "public": self.public,
            **{
                field: None if value is None else format_duration(value)
                for field, value in self.settings.items()
            },
        }


@dataclasses.dataclass
class CheckRequirements:
    """What the app needs from the services' settings."""

    providers: Sequence[str] = ()
    """Webhook providers whose events reach services (their redelivery windows apply)."""
    outbox_relay_window: timedelta | None = None
    min_idempotency_retention: timedelta | None = None
    min_inactivity_timeout: timedelta | None = None
    services: Sequence[str] = ()
    """Services the retention requirement applies to; empty: every public service."""

    def idempotency_retention(self) -> tuple[timedelta | None, list[str], list[str]]:
        """(the longest required retention, why, provider names with no known window)."""
        needed: timedelta | None = None
        reasons: list[str] = []
        unknown: list[str] = []
        for provider in dict.fromkeys(self.providers):
            window = REDELIVERY_WINDOWS.get(provider)
            if window is None:
                unknown.append(provider)
                continue
            reasons.append(f"{provider} redelivers for {format_duration(window[0])}")
            needed = window[0] if needed is None else max(needed, window[0])
        for value, why in (
            (self.outbox_relay_window, "the outbox relay window is"),
            (self.min_idempotency_retention, "the required minimum is"),
        ):
            if value is not None:
                reasons.append(f"{why} {format_duration(value)}")
                needed = value if needed is None else max(needed, value)
        return needed, reasons, unknown


@dataclasses.dataclass
class CheckResult:
    services: list[ServiceSettings]
    problems: list[Problem]
    required_idempotency_retention: timedelta | None

    @property
    def exit_code(self) -> int:
        return 1 if any(p.level == "error" for p in self.problems) else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == 0,
            "required_idempotency_retention": None
            if self.required_idempotency_retention is None
            else format_duration(self.required_idempotency_retention),
            "services": [service.to_json() for service in self.services],
            "problems": [problem.to_json() for problem in self.problems],
        }


def _duration_or_none(value: Any) -> timedelta | None:
    if value is None or value == "":
        return None
    try:
        return parse_duration(str(value))
    except ValueError:
        return None


def check_services(admin: AdminClient, requirements: CheckRequirements) -> CheckResult:
    """Effective settings per service against what the app needs; see the README."""
    problems: list[Problem] = []
    needed, reasons, unknown = requirements.idempotency_retention()
    for provider in unknown:
        problems.append(
            Problem(
                "warning",
                None,
                f"no known redelivery window for webhook provider {provider!r}",
                "pass --min-idempotency-retention with the provider's window",
            )
        )
    services = []
    for raw in admin.services():
        services.append(
            ServiceSettings(
                name=str(raw["name"]),
                ty=str(raw.get("ty", "")),
                deployment_id=str(raw.get("deployment_id", "")),
                public=bool(raw.get("public", True)),
                settings={field: _duration_or_none(raw.get(field)) for field in SETTING_FIELDS},
            )
        )
    services.sort(key=lambda s: s.name)
    known = {s.name for s in services}
    for name in requirements.services:
        if name not in known:
            problems.append(Problem("error", name, "is not registered"))
    targets = [
        s
        for s in services
        if (s.name in requirements.services if requirements.services else s.public)
    ]
    if needed is not None:
        why = "; ".join(reasons)
        for service in targets:
            fields = ["idempotency_retention"]
            if service.ty == "Workflow":
                fields.append("workflow_completion_retention")
            for field in fields:
                have = service.settings.get(field)
                if have is None or have < needed:
                    problems.append(
                        Problem(
                            "error",
                            service.name,
                            f"{field} is {format_duration(have)}, shorter than "
                            f"{format_duration(needed)} ({why}): a redelivery after it expires "
                            "runs the handler again",
                            _declare_hint(service, field, needed),
                        )
                    )
    if requirements.min_inactivity_timeout is not None:
        for service in targets:
            have = service.settings.get("inactivity_timeout")
            if have is not None and have < requirements.min_inactivity_timeout:
                problems.append(
                    Problem(
                        "error",
                        service.name,
                        f"inactivity_timeout is {format_duration(have)}, shorter than the "
                        f"required {format_duration(requirements.min_inactivity_timeout)}",
                        _declare_hint(
                            service, "inactivity_timeout", requirements.min_inactivity_timeout
                        ),
                    )
                )
    inspected = (
        [s for s in services if s.name in requirements.services]
        if requirements.services
        else services
    )
    problems += _patched_settings(admin, inspected)
    return CheckResult(services, problems, needed)


def _patched_settings(admin: AdminClient, services: list[ServiceSettings]) -> list[Problem]:
    """Settings that differ from what the deployment declares were changed by
    ``PATCH /services``; the next registration resets them (measured on 1.7.12)."""
    problems = []
    by_deployment: dict[str, list[ServiceSettings]] = {}
    for service in services:
        by_deployment.setdefault(service.deployment_id, []).append(service)
    for deployment_id, members in by_deployment.items():
        try:
            deployment = admin.deployment(deployment_id)
            _, discovered = admin.register(
                str(deployment["uri"]),
                force=True,
                breaking=True,
                dry_run=True,
                use_http_11=str(deployment.get("http_version", "")).startswith("HTTP/1"),
                additional_headers=deployment.get("additional_headers") or None,
            )
        except (AdminError, KeyError, httpx.HTTPError) as error:
            problems.append(
                Problem(
                    "warning",
                    None,
                    f"could not compare the settings of {', '.join(s.name for s in members)} "
                    f"with what deployment {deployment_id} declares: {error}",
                )
            )
            continue
        declared = {
            s["name"]: s for s in discovered.get("services") or [] if isinstance(s, Mapping)
        }
        for service in members:
            theirs = declared.get(service.name)
            if theirs is None:
                continue
            service.declared = dict(theirs)
            changed = []
            for field in SETTING_FIELDS:
                want = _duration_or_none(theirs.get(field))
                if want != service.settings.get(field):
                    changed.append(
                        f"{field} {format_duration(service.settings.get(field))} "
                        f"(declared {format_duration(want)})"
                    )
            if bool(theirs.get("public", True)) != service.public:
                changed.append(f"public {service.public} (declared {theirs.get('public')})")
            if changed:
                problems.append(
                    Problem(
                        "warning",
                        service.name,
                        "settings changed with PATCH /services: "
                        + ", ".join(changed)
                        + "; the next registration resets them",
                        f"declare them in the SDK: restate.{_sdk_class(service.ty)}("
                        f'"{service.name}", idempotency_retention=..., inactivity_timeout=...)',
                    )
                )
    return problems


def _declare_hint(service: ServiceSettings, field: str, value: timedelta) -> str:
    if field == "workflow_completion_retention":
        return (
            "declare it on the workflow's main handler: "
            f"@workflow.main(workflow_retention={_timedelta_source(value)})"
        )
    return (
        f"declare it in the SDK: restate.{_sdk_class(service.ty)}("
        f'"{service.name}", {SDK_KEYWORDS[field]}={_timedelta_source(value)})'
    )


def _sdk_class(ty: str) -> str:
    return {"VirtualObject": "VirtualObject", "Workflow": "Workflow"}.get(ty, "Service")


def _timedelta_source(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0:
        return f"timedelta(days={seconds // 86400})"
    if seconds % 3600 == 0:
        return f"timedelta(hours={seconds // 3600})"
    return f"timedelta(seconds={seconds})"


# --- status -------------------------------------------------------------------------------


@dataclasses.dataclass
class StatusResult:
    admin_url: str
    admin_ok: bool
    admin_error: str | None
    ingress_url: str | None
    ingress_ok: bool
    ingress_error: str | None
    server_version: str | None
    admin_api_versions: list[int]
    services: list[dict[str, Any]]

    @property
    def exit_code(self) -> int:
        return 0 if self.admin_ok and self.ingress_ok else 1

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def server_status(admin: AdminClient, ingress_url: str | None = None) -> StatusResult:
    """Reachability of admin and ingress, versions, and the registered services."""
    version: dict[str, Any] = {}
    services: list[dict[str, Any]] = []
    admin_error = None
    try:
        admin.health()
        version = admin.version()
        services = [
            {
                "name": s.get("name"),
                "type": s.get("ty"),
                "deployment_id": s.get("deployment_id"),
                "revision": s.get("revision"),
                "public": s.get("public"),
                "handlers": sorted(_handlers(s)),
            }
            for s in admin.services()
        ]
    except AdminError as error:
        admin_error = str(error)
    ingress = ingress_url or version.get("ingress_endpoint")
    ingress_error = None
    ingress_ok = False
    if ingress:
        try:
            response = httpx.get(str(ingress).rstrip("/") + "/restate/health", timeout=5)
            ingress_ok = response.status_code == 200
            if not ingress_ok:
                ingress_error = f"/restate/health answered HTTP {response.status_code}"
        except httpx.HTTPError as error:
            ingress_error = f"could not reach the ingress at {ingress}: {error}"
    else:
        ingress_error = "ingress URL unknown (set INGRESS_URL)"
    low, high = version.get("min_admin_api_version"), version.get("max_admin_api_version")
    api_versions = list(range(int(low), int(high) + 1)) if low and high else []
    return StatusResult(
        admin_url=admin.url,
        admin_ok=admin_error is None,
        admin_error=admin_error,
        ingress_url=str(ingress).rstrip("/") if ingress else None,
        ingress_ok=ingress_ok,
        ingress_error=ingress_error,
        server_version=version.get("version"),
        admin_api_versions=api_versions,
        services=sorted(services, key=lambda s: str(s["name"])),
    )


def providers_from_webhooks(webhooks: Mapping[str, Any]) -> list[str]:
    """Provider names of the configured webhook endpoints (``WEBHOOKS`` setting)."""
    from ..adapters._webhooks import resolve_endpoint

    names = []
    for name, spec in webhooks.items():
        endpoint = resolve_endpoint(name, spec)
        provider = getattr(getattr(endpoint, "provider", None), "name", None)
        if isinstance(provider, str):
            names.append(provider)
    return names
