"""`manage.py check` warns (restate_web.W010) when RESTATE["SERVICES"] are served without
IDENTITY_KEYS while ALLOWED_HOSTS reaches beyond loopback; E010 when they cannot be loaded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.deploy.conftest import ROOT

SERVICES = "tests.deploy.signed_services:django_services"


def django_check(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("RESTATE_IDENTITY_KEYS", "RESTATE_SERVICES_PATH")
    }
    environment.update(
        {"DJANGO_SETTINGS_MODULE": "tests.deploy.django_site.settings_services", **env}
    )
    return subprocess.run(
        [sys.executable, "-m", "django", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_unsigned_services_on_a_public_host_warn():
    result = django_check(
        DEPLOY_TEST_SERVICES=SERVICES, DEPLOY_TEST_ALLOWED_HOSTS="shop.example,127.0.0.1"
    )
    assert result.returncode == 0, result.stderr  # a warning does not fail the check
    output = result.stdout + result.stderr
    assert "restate_web.W010" in output
    assert "shop.example" in output and "IDENTITY_KEYS" in output


@pytest.mark.parametrize(
    "env",
    [
        {"DEPLOY_TEST_ALLOWED_HOSTS": "127.0.0.1,localhost,[::1]"},
        {"DEPLOY_TEST_ALLOWED_HOSTS": "*", "RESTATE_IDENTITY_KEYS": "publickeyv1_" + "2" * 44},
    ],
    ids=["loopback-only", "signed"],
)
def test_no_warning_when_loopback_or_signed(env):
    result = django_check(DEPLOY_TEST_SERVICES=SERVICES, **env)
    assert result.returncode == 0, result.stderr
    assert "restate_web.W010" not in result.stdout + result.stderr


def test_services_that_cannot_be_imported_are_an_error():
    result = django_check(DEPLOY_TEST_SERVICES="tests.deploy.nowhere:services")
    assert result.returncode != 0
    assert "restate_web.E010" in result.stdout + result.stderr
