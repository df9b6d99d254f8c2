"""`deployments` and `prune`: an old deployment stays draining while an invocation pinned to it
is suspended on an awakeable, or while queued/scheduled work targets its services; it is drained
after that work completes, and only then does `prune` remove it."""

from __future__ import annotations

import time

import httpx
import pytest

pytestmark = pytest.mark.server


def states(run) -> dict[str, dict]:
    assert run.code == 0, run.stderr
    return {d["id"]: d for d in run.json()["deployments"]}


def wait_for(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_draining_until_the_pinned_and_queued_work_completes(cli, serve, prefix, deploy_server):
    ingress = deploy_server.ingress_url
    old = serve("v1")
    old_id = cli("restate-web", "register", old.url, "--format", "json").json()["deployment_id"]

    # A workflow pinned to the old deployment, suspended on an awakeable.
    started = httpx.post(f"{ingress}/{prefix}Parked/order-1/run/send")
    assert started.status_code == 202, started.text
    awakeable_id = httpx.get(f"{ingress}/{prefix}Parked/order-1/awakeable_id", timeout=30).json()

    new = serve("v1plus")  # the next release, under its own URI
    new_id = cli("restate-web", "register", new.url, "--format", "json").json()["deployment_id"]

    for entry in ("restate-web", "django", "flask"):
        seen = states(cli(entry, "deployments", "--format", "json"))
        assert seen[old_id]["state"] == "draining", (entry, seen[old_id])
        assert seen[old_id]["pinned_invocations"] == 1
        assert seen[new_id]["state"] == "active"
        assert sorted(seen[new_id]["latest_for"]) == [f"{prefix}Greeter", f"{prefix}Parked"]
    text = cli("restate-web", "deployments")
    assert f"{old_id}  draining" in text.stdout
    assert "1 invocation(s) pinned to it not completed" in text.stdout

    kept = cli("restate-web", "prune", "--format", "json").json()
    assert old_id not in [d["id"] for d in kept["removed"]]
    assert {d["id"]: d["state"] for d in kept["kept"]}[old_id] == "draining"

    # Work that has not started has no pinned deployment yet: counted by target service.
    scheduled = httpx.post(f"{ingress}/{prefix}Greeter/greet/send?delay=3s", json="later")
    assert scheduled.status_code == 202, scheduled.text
    resolved = httpx.post(f"{ingress}/restate/awakeables/{awakeable_id}/resolve", json="paid")
    assert resolved.status_code == 202
    output = httpx.get(f"{ingress}/restate/workflow/{prefix}Parked/order-1/attach", timeout=30)
    assert output.json() == "paid on v1"  # finished on the deployment it started on

    seen = states(cli("restate-web", "deployments", "--format", "json"))
    assert seen[old_id]["state"] == "draining"
    assert seen[old_id]["pinned_invocations"] == 0
    assert seen[old_id]["queued_by_service"] == {f"{prefix}Greeter": 1}

    def drained() -> bool:
        seen = states(cli("restate-web", "deployments", "--format", "json"))
        return seen[old_id]["state"] == "drained"

    wait_for(drained, "the scheduled call to run")

    preview = cli("django", "prune", "--dry-run", "--format", "json").json()
    assert old_id in [d["id"] for d in preview["removed"]]
    listed = httpx.get(f"{deploy_server.admin_url}/deployments").json()["deployments"]
    assert old_id in [d["id"] for d in listed]  # a dry run removes nothing

    pruned = cli("flask", "prune")
    assert pruned.code == 0, pruned.stderr
    assert f"removed {old_id}" in pruned.stdout
    assert f"kept {new_id} {new.url}/: active" in pruned.stdout
    remaining = [
        d["id"] for d in httpx.get(f"{deploy_server.admin_url}/deployments").json()["deployments"]
    ]
    assert old_id not in remaining
    assert new_id in remaining
    again = cli("restate-web", "prune", "--format", "json").json()
    assert old_id not in [d["id"] for d in again["removed"] + again["kept"]]
    assert httpx.post(f"{ingress}/{prefix}Greeter/hello", json="Di").json() == "Hi Di"
