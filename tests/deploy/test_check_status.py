"""`check` (retention against the webhook providers' redelivery windows and the outbox relay
window, PATCHed settings) and `status`, through all three entry points on a real server."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.server


def test_check_fails_on_a_retention_shorter_than_the_redelivery_window(cli, serve, prefix):
    greeter = f"{prefix}Greeter"
    v1 = serve("v1")  # Restate's default idempotency retention: 1 day
    assert cli("restate-web", "register", v1.url).code == 0

    failed = cli("restate-web", "check", "--provider", "stripe", "--service", greeter)
    assert failed.code == 1
    assert f"ERROR: {greeter}: idempotency_retention is 1d, shorter than 3d" in failed.stdout
    assert "stripe redelivers for 3d" in failed.stdout
    assert f'restate.Service("{greeter}", idempotency_retention=timedelta(days=3))' in (
        failed.stdout
    )
    assert failed.stdout.rstrip().endswith("check failed")

    # Django and Flask take the provider from their WEBHOOKS setting (a Stripe endpoint).
    for entry in ("django", "flask"):
        configured = cli(entry, "check", "--service", greeter, "--format", "json")
        assert configured.code == 1, (entry, configured.stdout, configured.stderr)
        body = configured.json()
        assert body["ok"] is False
        assert body["required_idempotency_retention"] == "3d"
        assert [p["service"] for p in body["problems"] if p["level"] == "error"] == [greeter]

    # Nothing configured, nothing required: the console script passes.
    plain = cli("restate-web", "check", "--service", greeter)
    assert plain.code == 0, plain.stdout
    assert f"{greeter} (Service, public): idempotency_retention 1d" in plain.stdout

    # A workflow's completion retention decides how long its key deduplicates too.
    workflow = cli(
        "restate-web",
        "check",
        "--provider",
        "adyen",
        "--service",
        f"{prefix}Parked",
        "--format",
        "json",
    ).json()
    assert sorted(p["message"].split(" is ")[0] for p in workflow["problems"]) == [
        "idempotency_retention",
        "workflow_completion_retention",
    ]

    missing = cli("restate-web", "check", "--service", "NoSuchService")
    assert missing.code == 1
    assert "NoSuchService: is not registered" in missing.stdout


def test_declared_retention_passes_and_patched_settings_warn(cli, serve, prefix, deploy_server):
    greeter = f"{prefix}Greeter"
    declared = serve("v1", DEPLOY_RETENTION_HOURS="96")  # 4 days, declared in the SDK
    assert cli("restate-web", "register", declared.url).code == 0
    for entry in ("restate-web", "django", "flask"):
        passed = cli(entry, "check", "--provider", "stripe", "--service", greeter)
        assert passed.code == 0, (entry, passed.stdout, passed.stderr)
        assert passed.stdout.rstrip().endswith("check passed")
        assert "WARNING" not in passed.stdout

    patched = httpx.patch(
        f"{deploy_server.admin_url}/services/{greeter}",
        json={"idempotency_retention": "7d", "inactivity_timeout": "5m"},
    )
    assert patched.status_code == 200, patched.text
    warned = cli("restate-web", "check", "--service", greeter, "--format", "json")
    assert warned.code == 0  # a warning, not a failure
    (warning,) = [p for p in warned.json()["problems"] if p["service"] == greeter]
    assert warning["level"] == "warning"
    assert "changed with PATCH /services" in warning["message"]
    assert "idempotency_retention 7d (declared 4d)" in warning["message"]
    assert "inactivity_timeout 5m (declared 1m)" in warning["message"]
    assert "next registration resets them" in warning["message"]
    assert "restate.Service(" in warning["hint"]

    # An LLM call of up to 10 minutes needs a longer inactivity timeout than the 5m in effect.
    slow = cli("flask", "check", "--min-inactivity-timeout", "10m", "--service", greeter)
    assert slow.code == 1
    assert f"ERROR: {greeter}: inactivity_timeout is 5m, shorter than the required 10m" in (
        slow.stdout
    )

    # An outbox relay that may take 10 days needs keys kept for longer than that.
    outbox = cli("restate-web", "check", "--outbox-relay-window", "10d", "--service", greeter)
    assert outbox.code == 1
    assert "the outbox relay window is 10d" in outbox.stdout


def test_status(cli, entry, serve, prefix, deploy_server):
    v1 = serve("v1")
    assert cli("restate-web", "register", v1.url).code == 0
    result = cli(entry, "status", "--format", "json")
    assert result.code == 0, result.stderr
    body = result.json()
    assert body["admin_ok"] and body["ingress_ok"]
    assert body["server_version"] == "1.7.12"
    assert body["ingress_url"] == deploy_server.ingress_url
    services = {s["name"]: s for s in body["services"]}
    assert services[f"{prefix}Greeter"]["handlers"] == ["bye", "greet"]
    text = cli(entry, "status")
    assert f"admin   {deploy_server.admin_url}: ok" in text.stdout
    assert "restate-server 1.7.12" in text.stdout


def test_status_with_admin_down(entry):
    from tests.deploy.conftest import run_entry

    result = run_entry(entry, ["status"], "http://127.0.0.1:9")
    assert result.code == 1
    assert "unreachable (could not reach the Restate admin API" in result.stdout


def test_register_diff_shows_a_patched_setting_it_will_reset(cli, serve, prefix, deploy_server):
    greeter = f"{prefix}Greeter"
    first = serve("v1", DEPLOY_RETENTION_HOURS="96")
    assert cli("restate-web", "register", first.url).code == 0
    httpx.patch(
        f"{deploy_server.admin_url}/services/{greeter}", json={"idempotency_retention": "7d"}
    ).raise_for_status()

    release = serve("v1", DEPLOY_RETENTION_HOURS="96")  # the same code under a new URI
    preview = cli("restate-web", "register", release.url, "--dry-run", "--format", "json")
    assert preview.json()["diff"]["setting_changes"] == [
        f"{greeter} idempotency_retention 7d -> 4d"
    ]
    registered = cli("restate-web", "register", release.url)
    assert registered.code == 0, registered.stdout
    assert f"~ setting {greeter} idempotency_retention 7d -> 4d" in registered.stdout
    service = httpx.get(f"{deploy_server.admin_url}/services/{greeter}").json()
    assert service["idempotency_retention"] == "4d"  # what the SDK declares, PATCH undone


def test_a_misspelt_provider_is_a_bad_argument(cli, entry):
    # A typo in CI (`--provider strpe`) must not pass the check with a mere warning: it is a bad
    # argument (exit 2) that lists the providers whose windows are known.
    result = cli(entry, "check", "--provider", "strpe")
    assert result.code == 2, (result.stdout, result.stderr)
    assert "strpe" in result.stderr
    assert "stripe" in result.stderr and "standard-webhooks" in result.stderr
