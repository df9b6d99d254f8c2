"""restate-web: Restate's durable execution from FastAPI, Flask and Django.

- ``restate_web.ingress``: ``IngressClient`` / ``AsyncIngressClient``, the way ordinary code
  reaches Restate handlers.
- ``restate_web.adapters.fastapi`` / ``.flask`` / ``.django``: per-request clients, idempotency
  keys derived from ``Idempotency-Key``, header hygiene, webhook mounts.
- ``restate_web.webhooks``: verified provider webhooks that resolve awakeables exactly once.
- ``restate_web.guards``: misuse of durable code turned into clear errors.
- ``restate_web.testing``: a real restate-server and SDK services for your tests (and a pytest
  plugin: ``restate_server``, ``restate_services``, ``ingress_client``).
- ``restate_web.deploy``: drain-safe registration, pruning and settings checks (the
  ``restate-web`` / ``manage.py restate`` / ``flask restate`` subcommands).
- ``restate_web.serving``: SDK services served inside an ASGI web app, behind request signing.
- ``restate_web.outbox``: a transactional outbox: ``send(..., outbox=True)`` (Django) or
  ``outbox=session`` (SQLAlchemy) sends when the transaction commits, exactly once, and the
  relay (``restate-web outbox relay``) sends what a crash or an outage left behind.

Importing a submodule never imports a web framework, restate-sdk, pydantic or OpenTelemetry:
each is loaded when used, and a missing one names the extra to install.
"""

__version__ = "0.1.0"
