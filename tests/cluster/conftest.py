"""A three-node Restate cluster for the module (restate-web's ``restate_cluster`` fixture), with
tests/cluster/services.py served once and registered through one node's admin API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from restate_web.testing import HarnessError, RestateCluster, ServiceProcess
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def cluster(restate_cluster: RestateCluster) -> Iterator[RestateCluster]:
    try:
        services = ServiceProcess.start("tests.cluster.services:app", cwd=ROOT)
    except HarnessError as error:
        pytest.fail(f"could not serve tests/cluster/services.py: {error}", pytrace=False)
    try:
        restate_cluster.register(services.url)
        yield restate_cluster
    finally:
        services.close()


def ports(requests: list[httpx.Request]) -> list[int]:
    """The port each recorded request went to (one port per node's ingress)."""
    return [int(request.url.port or 0) for request in requests]
