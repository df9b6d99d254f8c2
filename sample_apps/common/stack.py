"""Start the whole checkout on this machine: restate-server, the services, the payment
simulator and one framework's web app. Every process listens on 127.0.0.1 on a free port and is
stopped by its own process id when the block ends."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from restate_web.deploy import AdminClient, RegisterResult, register_deployment
from restate_web.testing import RestateServer, ServiceProcess, free_port

from .config import (
    PAYMENT_DEADLINE_ENV,
    SIMULATOR_URL_ENV,
    WEBHOOK_SECRET_ENV,
    WEBHOOK_URL_ENV,
)

ROOT = Path(__file__).resolve().parents[2]

# How each sample is served: (server, "module:app"). Flask is WSGI; hypercorn serves it.
APPS = {
    "fastapi": ("uvicorn", "sample_apps.fastapi_checkout.app:app"),
    "flask": ("hypercorn", "sample_apps.flask_checkout.app:app"),
    "django": ("uvicorn", "sample_apps.django_checkout.checkout.asgi:application"),
}
WEBHOOK_PATH = "/webhooks/stripe"


@dataclass
class CheckoutStack:
    framework: str
    server: RestateServer
    services: ServiceProcess
    simulator: ServiceProcess
    app: ServiceProcess
    webhook_secret: str
    registration: RegisterResult

    @property
    def app_url(self) -> str:
        return self.app.url

    @property
    def simulator_url(self) -> str:
        return self.simulator.url

    def processes(self) -> dict[str, int | None]:
        return {
            "restate-server": self.server.pid,
            "services": self.services.pid,
            "simulator": self.simulator.pid,
            f"{self.framework} app": self.app.pid,
        }


@contextmanager
def checkout_stack(
    framework: str, *, duplicate_rate: float = 0.0, payment_deadline: float = 30.0
) -> Iterator[CheckoutStack]:
    if framework not in APPS:
        raise ValueError(f"unknown framework {framework!r}: choose one of {', '.join(APPS)}")
    server_kind, app_path = APPS[framework]
    webhook_secret = "whsec_" + secrets.token_urlsafe(24)
    simulator_port, app_port = free_port(), free_port()
    simulator_url = f"http://127.0.0.1:{simulator_port}"
    env = {
        SIMULATOR_URL_ENV: simulator_url,
        WEBHOOK_URL_ENV: f"http://127.0.0.1:{app_port}{WEBHOOK_PATH}",
        WEBHOOK_SECRET_ENV: webhook_secret,
        "CHECKOUT_DUPLICATE_RATE": str(duplicate_rate),
        PAYMENT_DEADLINE_ENV: str(payment_deadline),
        "DJANGO_SETTINGS_MODULE": "sample_apps.django_checkout.checkout.settings",
    }
    with ExitStack() as stack:
        server = stack.enter_context(RestateServer.start())
        env["RESTATE_INGRESS_URL"] = server.ingress_url
        services = stack.enter_context(
            ServiceProcess.start("sample_apps.common.services:app", cwd=ROOT, env=env)
        )
        # Registered the way a deployment pipeline would: `restate-web register` (its core).
        with AdminClient(server.admin_url) as admin:
            registration = register_deployment(admin, services.url)
        if registration.exit_code:
            raise RuntimeError(f"registering the sample's services failed: {registration.message}")
        simulator = stack.enter_context(
            ServiceProcess.start(
                "sample_apps.common.simulator:app",
                server="uvicorn",
                cwd=ROOT,
                env=env,
                port=simulator_port,
            )
        )
        app = stack.enter_context(
            ServiceProcess.start(app_path, server=server_kind, cwd=ROOT, env=env, port=app_port)
        )
        yield CheckoutStack(
            framework, server, services, simulator, app, webhook_secret, registration
        )
