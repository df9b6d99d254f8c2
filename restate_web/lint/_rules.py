"""The rule catalogue: codes, why each matters on replay, and the fix (shared by every output)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    why: str
    fix: str
    bad: str
    good: str


RULES: tuple[Rule, ...] = (
    Rule(
        "RW101",
        "wall-clock-time",
        "wall-clock time read in a handler",
        "On replay the handler runs again and reads a different time, so any decision or journal "
        "entry built from it differs from the first run (RT0016 journal mismatch) or silently "
        "changes behaviour.",
        "use `await ctx.time()`, or read the clock inside a `ctx.run_typed` action",
        "created = datetime.now()",
        "created = await ctx.time()  # seconds since the epoch, journaled\n"
        'stamp = await ctx.run_typed("now", lambda: datetime.now().isoformat())',
    ),
    Rule(
        "RW102",
        "randomness",
        "random values or ids generated in a handler",
        "`random`, `secrets`, `os.urandom` and `uuid1/uuid4` give new values on replay: an id "
        "used as an idempotency key or state key changes and the step runs twice.",
        "use `ctx.random()` (a seeded `random.Random`) or `ctx.uuid()`",
        "payment_id = str(uuid.uuid4())",
        "payment_id = str(ctx.uuid())",
    ),
    Rule(
        "RW103",
        "native-sleep",
        "native sleep in a handler",
        "`time.sleep` blocks the worker and `asyncio.sleep` is not journaled: the wait is lost "
        "on a crash and repeated on replay, and the invocation cannot suspend.",
        "use `await ctx.sleep(timedelta(...))`, a durable timer",
        "await asyncio.sleep(60)",
        "await ctx.sleep(timedelta(seconds=60))",
    ),
    Rule(
        "RW104",
        "io-outside-run",
        "external I/O outside `ctx.run`",
        "HTTP calls, sockets, subprocesses, files, databases, cloud and LLM clients run again on "
        "every replay and retry: a payment is charged twice, an email sent twice, and the "
        "result is not journaled.",
        'wrap the call in `await ctx.run_typed("name", fn, ...)` so it runs once and its '
        "result is journaled",
        "resp = httpx.post(url, json=order)",
        'resp = await ctx.run_typed("charge", charge_card, order=order)',
    ),
    Rule(
        "RW105",
        "environment-read",
        "environment variable read in a handler",
        "The environment may differ on the host that replays the invocation, so the handler "
        "can take another branch on replay.",
        "read it once at start-up (module level), or inside `ctx.run`",
        'region = os.environ["REGION"]',
        'REGION = os.environ["REGION"]  # at module level',
    ),
    Rule(
        "RW201",
        "context-inside-run",
        "the handler's context used inside a `ctx.run` action",
        "An action runs once and only its result is journaled: durable steps (state, sleeps, "
        "calls, awakeables, nested runs) inside it are not replayed consistently and can hang "
        "the invocation.",
        "do the durable step before or after `ctx.run`, and pass what the action needs as "
        "arguments",
        'await ctx.run_typed("save", lambda: ctx.set("k", v))',
        'value = await ctx.run_typed("fetch", fetch)\nctx.set("k", value)',
    ),
    Rule(
        "RW301",
        "native-concurrency",
        "native concurrency in a handler",
        "`asyncio.gather/wait/create_task`, threads and executors complete in an order Restate "
        "does not journal, so replay sees the durable operations in another order (RT0016).",
        "use `restate.gather`, `restate.select`, `restate.wait_completed` or "
        "`restate.as_completed` on the context's futures",
        "a, b = await asyncio.gather(ctx.service_call(f, 1), ctx.service_call(g, 2))",
        "a, b = await restate.gather(ctx.service_call(f, 1), ctx.service_call(g, 2))",
    ),
    Rule(
        "RW401",
        "module-state-mutation",
        "module-level state mutated from a handler",
        "A global lives in one process only: it is lost on restart, not shared between "
        "replicas, and replay mutates it again.",
        "keep state with `ctx.get` / `ctx.set` in a Virtual Object or Workflow",
        "CARTS[user].append(item)",
        'cart = await ctx.get("cart") or []\ncart.append(item)\nctx.set("cart", cart)',
    ),
    Rule(
        "RW501",
        "blocking-exclusive-handler",
        "sleep or awakeable wait in an exclusive Virtual Object handler",
        "An exclusive handler holds its key's lock while it waits: every other call to that "
        "key queues behind the sleep or the awakeable.",
        "schedule the follow-up with a delayed send (`ctx.object_send(..., send_delay=...)`), or "
        'wait in a `kind="shared"` handler',
        "await ctx.sleep(timedelta(days=1))  # in an exclusive handler",
        "ctx.object_send(remind, key=ctx.key(), arg=None, send_delay=timedelta(days=1))",
    ),
    Rule(
        "RW502",
        "exclusive-call-cycle",
        "call cycle between exclusive Virtual Object handlers",
        "An exclusive handler that waits for a call which comes back to an exclusive handler of "
        "the same key waits for itself: the invocations deadlock.",
        'make one hop a one-way send (`ctx.object_send`), a `kind="shared"` handler, or put a '
        "service in between",
        "await ctx.object_call(other_exclusive_handler, key=ctx.key(), arg=x)",
        "ctx.object_send(other_exclusive_handler, key=ctx.key(), arg=x)",
    ),
    Rule(
        "RW601",
        "awakeable-inside-workflow",
        "awakeable resolved by another handler of the same Workflow",
        "Awakeables are for callbacks from outside Restate; signalling between a workflow's own "
        "handlers has a durable, named primitive that survives without passing ids around.",
        'use a durable promise: `await ctx.promise("name").value()` in `run`, '
        '`await ctx.promise("name").resolve(x)` in the signalling handler',
        'ctx.resolve_awakeable(awakeable_id, "approved")',
        'await ctx.promise("approval").resolve("approved")',
    ),
    Rule(
        "RW701",
        "ingress-client-in-handler",
        "ingress client used inside a handler",
        "A call through the ingress is not journaled: it runs again on every replay and the "
        "callee sees duplicate requests.",
        "call other handlers through the context: `ctx.service_call` / `ctx.object_call` / "
        "`ctx.workflow_call` (or the `_send` variants)",
        'await restate.create_client(url).service_call(greet, arg="x")',
        'await ctx.service_call(greet, arg="x")',
    ),
    Rule(
        "RW801",
        "agent-tool-swallows-errors",
        "OpenAI Agents `@function_tool` in a Restate service module",
        "The agent framework turns a tool's exceptions into text for the model, including "
        "Restate's `TerminalError` and suspension: the failure is hidden and the step is not "
        "retried.",
        "use `restate.ext.openai.durable_function_tool` (or pass a `failure_error_function` "
        "that re-raises Restate errors)",
        "@function_tool\nasync def get_weather(city: str) -> str: ...",
        "@durable_function_tool\nasync def get_weather(city: str) -> str: ...",
    ),
    Rule(
        "RW901",
        "broad-except-around-durable-code",
        "broad `except` around durable operations",
        "Restate suspends an invocation by raising a `BaseException`, and reports failures with "
        "`TerminalError`: `except:` / `except BaseException` swallows the suspension, and an "
        "`except Exception` that does not re-raise turns a terminal failure into a success.",
        "catch the specific errors you expect, and re-raise `TerminalError`",
        'try:\n    await ctx.run_typed("pay", pay)\nexcept Exception:\n    pass',
        'try:\n    await ctx.run_typed("pay", pay)\nexcept TerminalError:\n    await refund()\n'
        "    raise",
    ),
    Rule(
        "RW902",
        "set-iteration-order",
        "iteration over a set decides durable operations",
        "A set's iteration order depends on string hashing, which differs between processes: "
        "the durable operations come out in another order on replay (RT0016).",
        "iterate over `sorted(...)` of the set (or a list)",
        "for user in set(users):\n    ctx.object_send(notify, key=user, arg=msg)",
        "for user in sorted(set(users)):\n    ctx.object_send(notify, key=user, arg=msg)",
    ),
)

RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}


def message(code: str, lead: str) -> str:
    """A finding's message: what was found (``lead``), the rule, and the fix. The run-time
    checks of ``install_context_guard(strict=True)`` report with the same words."""
    rule = RULES_BY_CODE[code]
    return f"{lead}: {rule.summary}. Fix: {rule.fix}"


def rules_markdown() -> str:
    """The catalogue as Markdown, for an AGENTS.md or a `.cursor/rules` file."""
    lines = [
        "# Restate durable handlers: rules (restate-web lint)",
        "",
        "Code in a Restate handler (and in the functions it calls) is replayed after a crash or "
        "a suspension: it must take the same path and issue the same durable operations every "
        "time. Side effects and non-determinism go inside `ctx.run_typed` actions, which run "
        "once and are journaled. `restate-web lint` checks these rules; silence one line with "
        "`# noqa: RWxxx`.",
        "",
    ]
    for rule in RULES:
        lines += [
            f"## {rule.code} {rule.name}: {rule.summary}",
            "",
            f"Why: {rule.why}",
            "",
            f"Fix: {rule.fix}.",
            "",
            "```python",
            "# don't",
            rule.bad,
            "# do",
            rule.good,
            "```",
            "",
        ]
    return "\n".join(lines)
