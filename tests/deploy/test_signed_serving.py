"""Services served inside the web app, behind Restate's request signing, end to end: a real
restate-server configured with an ed25519 key this test makes signs every request; the apps
verify with the public key. Registered through the CLI, called through the ingress client."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from restate_web.ingress import IngressClient
from restate_web.testing import HarnessError, RestateServer, ServiceProcess
from tests.deploy.conftest import ROOT, run_entry

pytestmark = pytest.mark.server

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(data: bytes) -> str:
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        out = B58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def key_id(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return "publickeyv1_" + base58(raw)


def jwt(private: Ed25519PrivateKey, kid: str, audience: str) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    signing_input = (
        part({"typ": "JWT", "alg": "EdDSA", "kid": kid})
        + "."
        + part({"aud": audience, "nbf": now - 5, "iat": now, "exp": now + 60})
    )
    signature = base64.urlsafe_b64encode(private.sign(signing_input.encode())).rstrip(b"=")
    return signing_input + "." + signature.decode()


class Signed:
    def __init__(
        self, server: RestateServer, kid: str, fastapi: ServiceProcess, django: ServiceProcess
    ):
        self.server, self.kid, self.fastapi, self.django = server, kid, fastapi, django


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signed]:
    folder: Path = tmp_path_factory.mktemp("signing")
    private = Ed25519PrivateKey.generate()
    pem = folder / "identity.pem"
    pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    kid = key_id(private)
    env = {"SIGNED_TEST_IDENTITY_KEY": kid}
    try:
        server = RestateServer.start(
            extra_env={"RESTATE_WORKER__INVOKER__REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE": str(pem)}
        )
    except HarnessError as error:
        pytest.fail(f"restate-server could not start: {error}", pytrace=False)
    with server:
        # What the server says it signs with is the key the apps trust.
        log = re.sub(r"\x1b\[[0-9;]*m", "", server.log_path.read_text())
        assert "Loaded request identity key" in log and kid in log, log[-2000:]
        with (
            ServiceProcess.start(
                "tests.deploy.signed_fastapi_app:app", cwd=ROOT, env=env
            ) as fastapi,
            ServiceProcess.start(
                "tests.deploy.signed_django_asgi:application",
                cwd=ROOT,
                env={
                    # Explicit: other tests set another settings module in this process.
                    "DJANGO_SETTINGS_MODULE": "tests.deploy.django_site.settings_services",
                    "RESTATE_IDENTITY_KEYS": kid,
                    "RESTATE_SERVICES_PATH": "/restate/dj",
                    "DEPLOY_TEST_SERVICES": "tests.deploy.signed_services:django_services",
                },
            ) as django,
        ):
            yield Signed(server, kid, fastapi, django)


def register(signed: Signed, url: str, *extra: str) -> dict:
    result = run_entry(
        "restate-web", ["register", url, "--format", "json", *extra], signed.server.admin_url
    )
    assert result.code == 0, result.stdout + result.stderr
    body = result.json()
    assert body["outcome"] == "registered"
    return httpx.get(f"{signed.server.admin_url}/deployments/{body['deployment_id']}").json()


def test_fastapi_mount_over_http2(signed: Signed):
    deployment = register(signed, f"{signed.fastapi.url}/restate/v1")
    assert deployment["http_version"] == "HTTP/2.0"
    assert deployment["protocol_type"] == "BidiStream"
    with IngressClient(signed.server.ingress_url) as client:
        assert client.service("SignedGreeter").call("greet", "Ada") == "Hello Ada, signed"
    # The app's own routes are untouched by the mount.
    assert httpx.get(f"{signed.fastapi.url}/ping").json() == {"app": "fastapi"}


def test_fastapi_mount_request_response_over_http11(signed: Signed):
    deployment = register(signed, f"{signed.fastapi.url}/restate/rr", "--use-http-11")
    assert deployment["http_version"] == "HTTP/1.1"
    assert deployment["protocol_type"] == "RequestResponse"
    with IngressClient(signed.server.ingress_url) as client:
        answer = client.service("SignedRequestResponse").call("slow_echo", "hi")
    assert answer == "hi over HTTP/1.1"


def test_django_asgi_with_services(signed: Signed):
    register(signed, f"{signed.django.url}/restate/dj")
    with IngressClient(signed.server.ingress_url) as client:
        assert client.service("SignedDjangoGreeter").call("hello", "Bo") == "Hello Bo from Django"
    assert httpx.get(f"{signed.django.url}/ping").json() == {"app": "django"}


@pytest.mark.parametrize("app", ["fastapi", "django"])
def test_unsigned_and_wrongly_signed_requests_get_401(signed: Signed, app: str):
    base, path, target = {
        "fastapi": (signed.fastapi.url, "/restate/v1", "SignedGreeter/greet"),
        "django": (signed.django.url, "/restate/dj", "SignedDjangoGreeter/hello"),
    }[app]
    other = Ed25519PrivateKey.generate()
    with httpx.Client(http2=False) as http:
        for suffix in ("/discover", f"/invoke/{target}"):
            audience = path + suffix
            unsigned = http.post(base + audience, content=b"")
            assert unsigned.status_code == 401, (suffix, unsigned.status_code)
            for kid in (key_id(other), signed.kid):  # another key, or it claims the right kid
                forged = http.post(
                    base + audience,
                    content=b"",
                    headers={
                        "x-restate-signature-scheme": "v1",
                        "x-restate-jwt-v1": jwt(other, kid, audience),
                    },
                )
                assert forged.status_code == 401, (suffix, kid, forged.status_code)
        # Documented: the SDK's health check is not authenticated.
        assert http.get(f"{base}{path}/health").status_code == 200
