"""`register` through all three entry points against a real restate-server: a new deployment,
the same one again (unchanged), changed handlers under the same URI (refused, then forced), and
breaking changes under a new URI (refused, then allowed)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.server


def admin_deployments(server) -> list[dict]:
    return httpx.get(f"{server.admin_url}/deployments").json()["deployments"]


def test_new_then_unchanged(cli, entry, serve, prefix, deploy_server):
    v1 = serve("v1")
    first = cli(entry, "register", v1.url, "--format", "json")
    assert first.code == 0, first.stderr
    result = first.json()
    assert result["outcome"] == "registered"
    assert sorted(result["diff"]["services_added"]) == [f"{prefix}Greeter", f"{prefix}Parked"]
    deployment_id = result["deployment_id"]
    assert any(d["id"] == deployment_id for d in admin_deployments(deploy_server))
    greeting = httpx.post(f"{deploy_server.ingress_url}/{prefix}Greeter/greet", json="Ada")
    assert greeting.json() == "Hello Ada from v1"

    again = cli(entry, "register", v1.url)
    assert again.code == 0, again.stderr
    assert again.stdout.startswith("unchanged:"), again.stdout
    assert deployment_id in again.stdout
    preview = cli(entry, "register", v1.url, "--dry-run", "--format", "json").json()
    assert preview["outcome"] == "dry-run" and preview["would"] == "unchanged"


def test_same_uri_with_changed_handlers_needs_force(cli, entry, serve, prefix, deploy_server):
    v1 = serve("v1")
    registered = cli(entry, "register", v1.url, "--format", "json").json()
    # One invocation in flight on it, suspended on an awakeable nobody resolves.
    started = httpx.post(f"{deploy_server.ingress_url}/{prefix}Parked/k/run/send")
    assert started.status_code == 202
    httpx.get(f"{deploy_server.ingress_url}/{prefix}Parked/k/awakeable_id", timeout=30)
    v1.kill()
    # The next release served under the same URI (same port): a handler was added.
    v1plus = serve("v1plus", port=v1.port)

    refused = cli(entry, "register", v1plus.url)
    assert refused.code == 1
    assert "--force" in refused.stdout and "RT0016" in refused.stdout
    assert "(1 in flight now)" in refused.stdout
    assert f"+ handler {prefix}Greeter/hello" in refused.stdout
    assert "/restate/<release>" in refused.stdout
    missing = httpx.post(f"{deploy_server.ingress_url}/{prefix}Greeter/hello", json="x")
    assert missing.status_code == 404  # nothing was changed

    # Forced without --yes and without a terminal: not confirmed, nothing changed.
    unconfirmed = cli(entry, "register", v1plus.url, "--force")
    assert unconfirmed.code == 1
    assert "--yes" in unconfirmed.stderr

    forced = cli(entry, "register", v1plus.url, "--force", "--yes", "--format", "json")
    assert forced.code == 0, forced.stderr
    body = forced.json()
    assert body["outcome"] == "overwritten"
    assert body["deployment_id"] == registered["deployment_id"]
    assert any("RT0016" in warning for warning in body["warnings"])
    hello = httpx.post(f"{deploy_server.ingress_url}/{prefix}Greeter/hello", json="Bo")
    assert hello.json() == "Hi Bo"


def test_removed_handler_is_breaking(cli, entry, serve, prefix, deploy_server):
    v1 = serve("v1")
    assert cli(entry, "register", v1.url).code == 0
    v2 = serve("v2")  # a new URI for the new release, without Greeter/bye

    preview = cli(entry, "register", v2.url, "--dry-run", "--format", "json")
    assert preview.code == 1
    assert preview.json()["would"] == "refused"
    assert preview.json()["diff"]["handlers_removed"] == [f"{prefix}Greeter/bye"]

    refused = cli(entry, "register", v2.url)
    assert refused.code == 1
    assert f"handler removed: {prefix}Greeter/bye" in refused.stdout
    assert "--breaking" in refused.stdout
    assert len([d for d in admin_deployments(deploy_server) if d["uri"].startswith(v2.url)]) == 0

    allowed = cli(entry, "register", v2.url, "--breaking", "--yes", "--format", "json")
    assert allowed.code == 0, allowed.stderr
    assert allowed.json()["outcome"] == "registered"
    greeting = httpx.post(f"{deploy_server.ingress_url}/{prefix}Greeter/greet", json="Cy")
    assert greeting.json() == "Hello Cy from v2"


def test_type_change_is_breaking(cli, serve, prefix):
    v1 = serve("v1")
    assert cli("restate-web", "register", v1.url).code == 0
    changed = serve("object")
    refused = cli("restate-web", "register", changed.url, "--format", "json")
    assert refused.code == 1
    assert refused.json()["diff"]["type_changes"] == [f"{prefix}Greeter: Service -> VirtualObject"]


def test_unreachable_admin_is_a_clear_error(entry):
    from tests.deploy.conftest import run_entry

    result = run_entry(entry, ["register", "http://127.0.0.1:9/"], "http://127.0.0.1:9")
    assert result.code == 1
    assert "could not reach the Restate admin API at http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_type_change_with_breaking(cli, serve, prefix):
    v1 = serve("v1")
    assert cli("restate-web", "register", v1.url).code == 0
    changed = serve("object")
    allowed = cli("restate-web", "register", changed.url, "--breaking", "--yes")
    assert allowed.code == 0, allowed.stdout + allowed.stderr
    assert allowed.stdout.startswith("registered:")
    assert f"~ type {prefix}Greeter: Service -> VirtualObject (breaking)" in allowed.stdout
