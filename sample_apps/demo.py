"""`make demo` / `make sample`: the checkout story on an embedded restate-server.

python -m sample_apps.demo --framework fastapi     # walk through, exit 0 if all passed
python -m sample_apps.demo --framework flask --serve   # keep running until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from .common.config import CARD_DECLINED, CARD_OK
from .common.stack import APPS, checkout_stack
from .common.walkthrough import Walkthrough


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--framework", choices=sorted(APPS), default="fastapi")
    parser.add_argument("--serve", action="store_true", help="keep the stack running")
    args = parser.parse_args(argv)

    print(
        f"restate-web checkout ({args.framework}): starting restate-server, services, "
        "payment simulator and the web app on 127.0.0.1 ...",
        flush=True,
    )
    with checkout_stack(args.framework) as stack:
        for name, pid in stack.processes().items():
            print(f"  {name:<16} pid {pid}")
        registration = stack.registration
        print(
            f"  services {registration.outcome} as {registration.deployment_id} "
            f"(restate-web register {stack.services.url}): "
            + ", ".join(str(s["name"]) for s in registration.plan.services)
        )
        if args.serve:
            return serve(stack.app_url, stack.simulator_url, stack.server.ingress_url)
        print(f"\nWalkthrough against {stack.app_url}:", flush=True)
        walkthrough = Walkthrough(stack.app_url, stack.simulator_url)
        try:
            ok = walkthrough.run_all()
        finally:
            walkthrough.close()
    passed = sum(r.ok for r in walkthrough.results)
    print(f"\n{passed} passed, {len(walkthrough.results) - passed} failed")
    print("All processes stopped." if ok else "Some steps failed; all processes stopped.")
    return 0 if ok else 1


def serve(app_url: str, simulator_url: str, ingress_url: str) -> int:
    print(
        f"""
Running. Web app: {app_url}   simulator: {simulator_url}   Restate ingress: {ingress_url}

  curl -s -X POST {app_url}/orders -H 'Idempotency-Key: "my-first-order"' \\
       -H 'content-type: application/json' \\
       -d '{{"sku": "book", "quantity": 1, "card": "{CARD_OK}"}}'
  curl -s {app_url}/orders/<order_id>
  curl -s -X POST {app_url}/orders -H 'Idempotency-Key: "declined-1"' \\
       -H 'content-type: application/json' -d '{{"sku": "book", "card": "{CARD_DECLINED}"}}'
  curl -s {app_url}/stock/book
  curl -s {simulator_url}/v1/deliveries
  curl -s {app_url}/debug/misuse

Ctrl-C stops everything.""",
        flush=True,
    )
    stop = threading.Event()
    # Handle both explicitly: a shell may start us with SIGINT ignored (background jobs).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        while not stop.wait(0.5):
            pass
    print("\nStopping ...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
