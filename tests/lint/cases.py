"""Per-rule cases: snippets that must be reported (positive) and that must stay silent
(negative). Each snippet is a whole module; HEADER is prepended.

The negatives include the tricky ones the issue names (a clock read inside a run_typed lambda,
a helper passed by reference that calls uuid4, ctx.random(), restate.gather, a shared handler
that sleeps, asyncio.gather in a function no handler calls) and patterns from public Restate
example code.
"""

from __future__ import annotations

HEADER = """\
import asyncio
import os
import random
import time
import uuid
from datetime import datetime, timedelta

import restate
from restate import Context, ObjectContext, ObjectSharedContext, WorkflowContext

svc = restate.Service("Svc")
obj = restate.VirtualObject("Obj")
wf = restate.Workflow("Wf")
"""

POSITIVE: dict[str, dict[str, str]] = {
    "RW101": {
        "datetime.now in a service handler": """
@svc.handler()
async def h(ctx: Context) -> str:
    if datetime.now().hour > 12:
        ctx.service_send(h, arg=None)
    return "ok"
""",
        "time.time stored in state": """
@obj.handler()
async def h(ctx: ObjectContext) -> None:
    ctx.set("updated", time.time())
""",
        "datetime module imported as dt, utcnow": """
import datetime as dt

@svc.handler()
async def h(ctx: Context) -> None:
    deadline = dt.datetime.utcnow() + timedelta(days=1)
    await ctx.sleep(deadline - dt.datetime.utcnow())
""",
        "date.today through a helper (call graph)": """
from datetime import date

def today_key() -> str:
    return date.today().isoformat()

@obj.handler()
async def h(ctx: ObjectContext) -> None:
    key = today_key()
    ctx.set(key, 1)
""",
        "a greeting with the time": """
@svc.handler()
async def greet(ctx: Context, name: str) -> str:
    return f"Hello {name}, it is {datetime.now():%H:%M}"
""",
        "perf_counter through two helpers": """
def stamp() -> float:
    return time.perf_counter()

def decide() -> bool:
    return stamp() > 10

@wf.main()
async def run(ctx: WorkflowContext) -> None:
    if decide():
        await ctx.sleep(timedelta(seconds=1))
""",
    },
    "RW102": {
        "uuid4 as an idempotency key": """
def charge(amount: int, key: str) -> str:
    return key

@svc.handler()
async def h(ctx: Context, amount: int) -> str:
    payment_id = str(uuid.uuid4())
    return await ctx.run_typed("charge", charge, amount=amount, key=payment_id)
""",
        "random.choice decides a call": """
@svc.handler()
async def h(ctx: Context) -> None:
    target = random.choice(["a", "b"])
    await ctx.object_call(h, key=target, arg=None)
""",
        "secrets token in state": """
import secrets

@obj.handler()
async def h(ctx: ObjectContext) -> None:
    ctx.set("token", secrets.token_hex(16))
""",
        "from uuid import uuid4 through a helper": """
from uuid import uuid4

def new_order_id() -> str:
    return f"order-{uuid4()}"

@wf.main()
async def run(ctx: WorkflowContext) -> None:
    order_id = new_order_id()
    ctx.set("order", order_id)
""",
        "an id returned to the caller": """
@svc.handler()
async def reserve(ctx: Context) -> str:
    booking_id = str(uuid.uuid4())
    return booking_id
""",
        "os.urandom": """
@svc.handler()
async def h(ctx: Context) -> None:
    salt = os.urandom(8)
    await ctx.service_call(h, arg=salt.hex())
""",
    },
    "RW103": {
        "asyncio.sleep": """
@svc.handler()
async def h(ctx: Context) -> None:
    await asyncio.sleep(5)
""",
        "time.sleep": """
@obj.handler()
async def h(ctx: ObjectContext) -> None:
    time.sleep(1)
""",
        "from asyncio import sleep": """
from asyncio import sleep as pause

@wf.main()
async def run(ctx: WorkflowContext) -> None:
    await pause(10)
""",
        "sleep in a helper that takes the context": """
async def backoff(ctx: Context, attempt: int) -> None:
    await asyncio.sleep(2 ** attempt)

@svc.handler()
async def h(ctx: Context) -> None:
    await backoff(ctx, 3)
""",
    },
    "RW104": {
        "httpx.post in a handler": """
import httpx

@svc.handler()
async def h(ctx: Context, order: dict) -> None:
    httpx.post("https://payments.example/charge", json=order)
""",
        "requests through a helper": """
import requests

def notify(user: str) -> None:
    requests.post("https://mail.example/send", json={"to": user})

@svc.handler()
async def h(ctx: Context, user: str) -> None:
    notify(user)
""",
        "async client method": """
import httpx

@svc.handler()
async def h(ctx: Context) -> dict:
    async with httpx.AsyncClient() as client:
        response = await client.get("https://api.example/x")
    return response.json()
""",
        "module-level OpenAI client": """
from openai import AsyncOpenAI

llm = AsyncOpenAI()

@obj.handler()
async def h(ctx: ObjectContext, prompt: str) -> str:
    answer = await llm.chat.completions.create(model="m", messages=[])
    return str(answer)
""",
        "open() a file": """
@svc.handler()
async def h(ctx: Context, line: str) -> None:
    with open("/tmp/audit.log", "a") as f:
        f.write(line)
""",
        "subprocess.run": """
import subprocess

@svc.handler()
async def h(ctx: Context) -> None:
    subprocess.run(["ls"])
""",
        "sqlite3 connection": """
import sqlite3

@svc.handler()
async def h(ctx: Context) -> None:
    conn = sqlite3.connect("db.sqlite")
    conn.execute("insert into t values (1)")
""",
        "Django queryset": """
from shop.models import Order

@svc.handler()
async def h(ctx: Context, order_id: int) -> None:
    order = await Order.objects.aget(pk=order_id)
    ctx.set("o", order.pk)
""",
        "SQLAlchemy session from the project's SessionLocal": """
from app.db import SessionLocal

@svc.handler()
async def h(ctx: Context, order_id: int) -> None:
    with SessionLocal() as db:
        db.execute("update orders set paid = true where id = :id", {"id": order_id})
        db.commit()
""",
        "a client from a getter function": """
import functools
from openai import OpenAI

@functools.lru_cache
def get_client() -> OpenAI:
    return OpenAI()

@svc.handler()
async def h(ctx: Context, prompt: str) -> str:
    client = get_client()
    return client.responses.create(model="m", input=prompt).output_text
""",
        "boto3 client created at module level": """
import boto3

s3 = boto3.client("s3")

@svc.handler()
async def h(ctx: Context, key: str) -> None:
    s3.put_object(Bucket="b", Key=key, Body=b"")
""",
        "a client made on the spot": """
import boto3

@svc.handler()
async def h(ctx: Context, key: str) -> None:
    boto3.client("s3").put_object(Bucket="b", Key=key, Body=b"")
""",
        "pathlib write_text": """
from pathlib import Path

@svc.handler()
async def h(ctx: Context, text: str) -> None:
    Path("/tmp/out.txt").write_text(text)
""",
    },
    "RW105": {
        "os.environ subscript": """
@svc.handler()
async def h(ctx: Context) -> None:
    if os.environ["MODE"] == "fast":
        await ctx.sleep(timedelta(seconds=1))
""",
        "os.getenv": """
@svc.handler()
async def h(ctx: Context) -> str:
    region = os.getenv("REGION", "eu")
    await ctx.service_call(h, arg=region)
    return region
""",
        "from os import environ": """
from os import environ

@obj.handler()
async def h(ctx: ObjectContext) -> None:
    ctx.set("flag", environ.get("FLAG"))
""",
        "env read in a helper": """
def limit() -> int:
    return int(os.environ.get("LIMIT", "5"))

@svc.handler()
async def h(ctx: Context) -> None:
    for i in range(limit()):
        await ctx.service_call(h, arg=i)
""",
    },
    "RW201": {
        "ctx.set inside a lambda action": """
@obj.handler()
async def h(ctx: ObjectContext) -> None:
    await ctx.run_typed("save", lambda: ctx.set("k", 1))
""",
        "ctx.sleep inside a nested def action": """
@svc.handler()
async def h(ctx: Context) -> None:
    async def step() -> int:
        await ctx.sleep(timedelta(seconds=1))
        return 1

    await ctx.run_typed("step", step)
""",
        "nested ctx.run": """
@svc.handler()
async def h(ctx: Context) -> None:
    async def outer() -> int:
        return await ctx.run_typed("inner", lambda: 1)

    await ctx.run_typed("outer", outer)
""",
        "service call inside the action (legacy ctx.run)": """
@svc.handler()
async def h(ctx: Context) -> None:
    async def step() -> None:
        await ctx.service_call(h, arg=None)

    await ctx.run("step", step)
""",
        "the context handed to the action as an argument": """
async def save(ctx: ObjectContext, value: int) -> None:
    ctx.set("v", value)

@obj.handler()
async def h(ctx: ObjectContext) -> None:
    await ctx.run_typed("save", save, ctx=ctx, value=1)
""",
        "ctx.get in an action of a helper that takes the context": """
async def load(ctx: ObjectContext) -> int:
    async def read() -> int:
        return await ctx.get("n") or 0
    return await ctx.run_typed("read", read)

@obj.handler()
async def h(ctx: ObjectContext) -> None:
    await load(ctx)
""",
    },
    "RW301": {
        "asyncio.gather of calls": """
@svc.handler()
async def h(ctx: Context) -> None:
    await asyncio.gather(ctx.service_call(h, arg=1), ctx.service_call(h, arg=2))
""",
        "asyncio.create_task": """
@svc.handler()
async def h(ctx: Context) -> None:
    task = asyncio.create_task(ctx.service_call(h, arg=1))
    await task
""",
        "asyncio.wait_for": """
@wf.main()
async def run(ctx: WorkflowContext) -> None:
    await asyncio.wait_for(ctx.promise("p").value(), timeout=10)
""",
        "a task on the running loop": """
@svc.handler()
async def h(ctx: Context) -> None:
    asyncio.get_running_loop().create_task(ctx.service_call(h, arg=1))
""",
        "thread pool executor": """
from concurrent.futures import ThreadPoolExecutor

@svc.handler()
async def h(ctx: Context) -> None:
    with ThreadPoolExecutor() as pool:
        pool.submit(print, 1)
""",
        "asyncio.gather in a helper the handler calls": """
async def fan_out(ctx: Context, items: list[int]) -> list[int]:
    return await asyncio.gather(*[ctx.service_call(h, arg=i) for i in items])

@svc.handler()
async def h(ctx: Context, items: list[int]) -> None:
    await fan_out(ctx, items)
""",
    },
    "RW401": {
        "append to a module-level list": """
SEEN = []

@svc.handler()
async def h(ctx: Context, x: int) -> None:
    SEEN.append(x)
""",
        "global counter": """
COUNT = 0

@svc.handler()
async def h(ctx: Context) -> int:
    global COUNT
    COUNT += 1
    return COUNT
""",
        "item assignment on a module dict": """
CARTS: dict[str, list[str]] = {}

@obj.handler()
async def h(ctx: ObjectContext, item: str) -> None:
    CARTS[ctx.key()] = [item]
""",
        "nested container through a helper": """
from collections import defaultdict

CARTS = defaultdict(list)

def remember(user: str, item: str) -> None:
    CARTS[user].append(item)

@obj.handler()
async def h(ctx: ObjectContext, item: str) -> None:
    remember(ctx.key(), item)
""",
    },
    "RW501": {
        "a day-long sleep in an exclusive handler": """
@obj.handler()
async def h(ctx: ObjectContext) -> None:
    await ctx.sleep(timedelta(days=1))
""",
        "an hour sleep given as a module constant": """
REMINDER = timedelta(hours=1)

@obj.handler(kind="exclusive")
async def h(ctx: ObjectContext) -> None:
    await ctx.sleep(REMINDER)
""",
        "an awakeable awaited while other exclusive handlers wait": """
@obj.handler()
async def approve(ctx: ObjectContext) -> bool:
    awakeable_id, promise = ctx.awakeable(type_hint=bool)
    ctx.set("pending", awakeable_id)
    return await promise

@obj.handler()
async def update(ctx: ObjectContext, v: int) -> None:
    ctx.set("v", v)
""",
        "minutes while other exclusive handlers queue": """
@obj.handler()
async def deliver(ctx: ObjectContext) -> None:
    ctx.set("status", "SCHEDULED")
    await ctx.sleep(timedelta(minutes=15))
    ctx.set("status", "DELIVERED")

@obj.handler()
async def cancel(ctx: ObjectContext) -> None:
    ctx.set("status", "CANCELLED")
""",
        "sleep with a duration in days from the input": """
@obj.handler()
async def h(ctx: ObjectContext, days: int) -> None:
    await ctx.sleep(timedelta(days=days))
    ctx.set("done", True)
""",
    },
    "RW502": {
        "self-call on the same key": """
@obj.handler()
async def h(ctx: ObjectContext) -> None:
    await ctx.object_call(h, key=ctx.key(), arg=None)
""",
        "two exclusive handlers of one object, same key": """
@obj.handler()
async def a(ctx: ObjectContext) -> None:
    await ctx.object_call(b, key=ctx.key(), arg=None)

@obj.handler()
async def b(ctx: ObjectContext) -> None:
    pass
""",
        "a cycle between two objects": """
other = restate.VirtualObject("Other")

@obj.handler()
async def a(ctx: ObjectContext, k: str) -> None:
    await ctx.object_call(b, key=k, arg=ctx.key())

@other.handler()
async def b(ctx: ObjectContext, k: str) -> None:
    await ctx.object_call(a, key=k, arg=ctx.key())
""",
        "a cycle through literal names (generic_call)": """
other = restate.VirtualObject("Other")

@obj.handler("ping")
async def ping(ctx: ObjectContext, k: str) -> None:
    await ctx.generic_call("Other", "pong", b"", key=k)

@other.handler("pong")
async def pong(ctx: ObjectContext, k: str) -> None:
    await ctx.generic_call("Obj", "ping", b"", key=k)
""",
        "the key bound to a name first": """
@obj.handler()
async def h(ctx: ObjectContext) -> None:
    me = ctx.key()
    await ctx.object_call(h, key=me, arg=None)
""",
    },
    "RW601": {
        "workflow signal through an awakeable": """
@wf.main()
async def run(ctx: WorkflowContext) -> str:
    awakeable_id, promise = ctx.awakeable(type_hint=str)
    ctx.set("awakeable", awakeable_id)
    return await promise

@wf.handler()
async def approve(ctx: restate.WorkflowSharedContext) -> None:
    awakeable_id = await ctx.get("awakeable")
    ctx.resolve_awakeable(awakeable_id, "ok")
""",
        "reject from another handler": """
@wf.main()
async def run(ctx: WorkflowContext) -> str:
    awakeable_id, promise = ctx.awakeable()
    return await promise

@wf.handler()
async def deny(ctx: restate.WorkflowSharedContext, awakeable_id: str) -> None:
    ctx.reject_awakeable(awakeable_id, "no")
""",
        "workflow imported by name": """
from restate import Workflow, WorkflowSharedContext

signup = Workflow("Signup")

@signup.main()
async def run(ctx: WorkflowContext) -> None:
    _, promise = ctx.awakeable()
    await promise

@signup.handler()
async def click(ctx: WorkflowSharedContext, awakeable_id: str) -> None:
    ctx.resolve_awakeable(awakeable_id, True)
""",
        "two resolving handlers": """
@wf.main()
async def run(ctx: WorkflowContext) -> None:
    _, promise = ctx.awakeable()
    await promise

@wf.handler()
async def yes(ctx: restate.WorkflowSharedContext, i: str) -> None:
    ctx.resolve_awakeable(i, True)

@wf.handler()
async def no(ctx: restate.WorkflowSharedContext, i: str) -> None:
    ctx.reject_awakeable(i, "no")
""",
    },
    "RW701": {
        "restate.create_client in a handler": """
@svc.handler()
async def h(ctx: Context) -> None:
    client = restate.create_client("http://localhost:8080")
    await client.service_call(h, arg=None)
""",
        "restate_web IngressClient": """
from restate_web.ingress import IngressClient

@svc.handler()
async def h(ctx: Context) -> None:
    with IngressClient() as client:
        client.service("Other").call("x", 1)
""",
        "AsyncIngressClient through a helper": """
from restate_web.ingress import AsyncIngressClient

async def forward(x: int) -> None:
    async with AsyncIngressClient() as client:
        await client.service("Other").send("x", x)

@svc.handler()
async def h(ctx: Context, x: int) -> None:
    await forward(x)
""",
        "create_client imported by name": """
from restate import create_client

@obj.handler()
async def h(ctx: ObjectContext) -> None:
    create_client("http://localhost:8080")
""",
    },
    "RW801": {
        "bare @function_tool": """
from agents import function_tool

@function_tool
async def get_weather(city: str) -> str:
    return city
""",
        "@function_tool() without failure_error_function": """
from agents import function_tool

@function_tool(
    name_override="weather",
    description_override="The weather in a city.",
)
async def get_weather(city: str) -> str:
    return city
""",
        "agents module import style": """
import agents

@agents.function_tool
def lookup(x: str) -> str:
    return x
""",
        "function_tool(fn) call": """
from agents import Agent, function_tool

def lookup(x: str) -> str:
    return x

agent = Agent(name="a", tools=[function_tool(lookup)])
""",
    },
    "RW901": {
        "bare except around ctx.run": """
def call_api() -> str:
    return "x"

@svc.handler()
async def h(ctx: Context) -> None:
    try:
        await ctx.run_typed("api", call_api)
    except:
        pass
""",
        "except BaseException around a sleep": """
@svc.handler()
async def h(ctx: Context) -> None:
    try:
        await ctx.sleep(timedelta(seconds=5))
    except BaseException as error:
        print(error)
""",
        "except Exception swallowing a call's TerminalError": """
@svc.handler()
async def h(ctx: Context) -> str:
    try:
        return await ctx.service_call(h, arg=None)
    except Exception:
        return "failed"
""",
        "except (ValueError, Exception) without raise": """
@obj.handler()
async def h(ctx: ObjectContext) -> None:
    try:
        await ctx.object_call(h, key="other", arg=None)
    except (ValueError, Exception) as e:
        ctx.set("error", str(e))
""",
        "except BaseException that raises something else": """
from restate import TerminalError

@svc.handler()
async def h(ctx: Context) -> None:
    try:
        await ctx.run_typed("x", lambda: 1)
    except BaseException:
        raise TerminalError("failed")
""",
    },
    "RW902": {
        "loop over a set literal": """
@svc.handler()
async def h(ctx: Context) -> None:
    for name in {"a", "b", "c"}:
        ctx.service_send(h, arg=name)
""",
        "loop over set(...) of the input": """
@svc.handler()
async def h(ctx: Context, users: list[str]) -> None:
    for user in set(users):
        await ctx.object_call(h, key=user, arg=None)
""",
        "a set bound to a name first": """
@svc.handler()
async def h(ctx: Context, a: list[str], b: list[str]) -> None:
    targets = set(a) | set(b)
    for t in targets:
        ctx.object_send(h, key=t, arg=None)
""",
        "a durable helper given a set": """
async def notify_all(ctx: Context, users: set[str]) -> None:
    for user in users:
        ctx.object_send(h, key=user, arg=None)

@svc.handler()
async def h(ctx: Context, users: list[str]) -> None:
    await notify_all(ctx, set(users))
""",
        "comprehension over a set": """
@svc.handler()
async def h(ctx: Context, users: list[str]) -> None:
    calls = [ctx.object_call(h, key=u, arg=None) for u in set(users)]
    await restate.gather(*calls)
""",
    },
}

NEGATIVE: dict[str, dict[str, str]] = {
    "RW101": {
        "datetime.now inside a run_typed lambda": """
@svc.handler()
async def h(ctx: Context) -> str:
    now = await ctx.run_typed("now", lambda: datetime.now().isoformat())
    return now
""",
        "ctx.time()": """
@svc.handler()
async def h(ctx: Context) -> None:
    started = await ctx.time()
    ctx.set("started", started)
""",
        "a clock in a plain function no handler calls": """
def report() -> str:
    return datetime.now().isoformat()

@svc.handler()
async def h(ctx: Context) -> str:
    return "ok"
""",
        "a clock only passed to the action as an argument": """
def record(at: float) -> None:
    pass

@svc.handler()
async def h(ctx: Context) -> None:
    started = time.time()
    await ctx.run_typed("record", record, at=started)
""",
        "a clock only logged": """
import logging

logger = logging.getLogger(__name__)

@svc.handler()
async def h(ctx: Context) -> None:
    logger.info("started at %s", datetime.now())
""",
        "timedelta arithmetic is not a clock": """
@svc.handler()
async def h(ctx: Context) -> None:
    await ctx.sleep(timedelta(seconds=5) * 2)
""",
        "converting a given timestamp": """
@svc.handler()
async def h(ctx: Context, ts: float) -> str:
    when = time.gmtime(ts)
    ctx.set("day", time.strftime("%Y-%m-%d", when))
    return datetime.fromtimestamp(ts).isoformat()
""",
        "a local function named now": """
def now() -> int:
    return 1

@svc.handler()
async def h(ctx: Context) -> int:
    return now() + 1
""",
    },
    "RW102": {
        "ctx.random().random()": """
@svc.handler()
async def h(ctx: Context) -> None:
    if ctx.random().random() < 0.5:
        ctx.set("coin", "heads")
""",
        "helper by reference to run_typed calls uuid4": """
def create_payment() -> str:
    return f"pay-{uuid.uuid4()}"

@svc.handler()
async def h(ctx: Context) -> str:
    return await ctx.run_typed("pay", create_payment)
""",
        "ctx.uuid()": """
@svc.handler()
async def h(ctx: Context) -> str:
    key = str(ctx.uuid())
    await ctx.service_call(h, arg=key)
    return key
""",
        "a seeded generator from ctx.random()": """
@svc.handler()
async def h(ctx: Context, items: list[str]) -> str:
    rng = ctx.random()
    pick = rng.choice(items)
    await ctx.service_call(h, arg=pick)
    return pick
""",
        "simulated failure (random draw that only raises)": """
def maybe_crash(p: float) -> None:
    if random.random() < p:
        raise Exception("simulated failure")

@svc.handler()
async def h(ctx: Context) -> None:
    maybe_crash(0.3)
    await ctx.sleep(timedelta(seconds=1))
""",
        "secrets.compare_digest is not random": """
import secrets

@svc.handler()
async def h(ctx: Context, token: str) -> bool:
    ok = secrets.compare_digest(token, "expected")
    ctx.set("ok", ok)
    return ok
""",
        "an id only logged": """
import logging

@svc.handler()
async def reserve(ctx: Context) -> str:
    trace = uuid.uuid4().hex
    logging.info(f"reserving, trace {trace}")
    return await ctx.run_typed("reserve", lambda: "booking-1")
""",
        "random inside a nested def action": """
@svc.handler()
async def h(ctx: Context) -> int:
    def roll() -> int:
        return random.randint(1, 6)

    return await ctx.run_typed("roll", roll)
""",
    },
    "RW103": {
        "ctx.sleep": """
@svc.handler()
async def h(ctx: Context) -> None:
    await ctx.sleep(timedelta(seconds=5))
""",
        "time.sleep inside the run action (a simulated slow API)": """
def slow_api() -> str:
    time.sleep(2)
    return "ok"

@svc.handler()
async def h(ctx: Context) -> str:
    return await ctx.run_typed("api", slow_api)
""",
        "asyncio.sleep(0) only yields": """
@svc.handler()
async def h(ctx: Context) -> None:
    await asyncio.sleep(0)
""",
        "asyncio.sleep in a lambda action": """
@svc.handler()
async def h(ctx: Context) -> None:
    await ctx.run_typed("wait", lambda: asyncio.sleep(1))
""",
        "sleep in a function only used outside handlers": """
async def poll_forever() -> None:
    while True:
        await asyncio.sleep(1)

@svc.handler()
async def h(ctx: Context) -> None:
    pass
""",
    },
    "RW104": {
        "HTTP in a helper passed by reference": """
import httpx

def charge(amount: int) -> dict:
    return httpx.post("https://p.example", json={"a": amount}).json()

@svc.handler()
async def h(ctx: Context, amount: int) -> dict:
    return await ctx.run_typed("charge", charge, amount=amount)
""",
        "client used inside an async nested action": """
import httpx

@svc.handler()
async def h(ctx: Context) -> str:
    async def fetch() -> str:
        async with httpx.AsyncClient() as client:
            return (await client.get("https://x.example")).text

    return await ctx.run_typed("fetch", fetch)
""",
        "LLM call inside a lambda action": """
from openai import OpenAI

client = OpenAI()

@obj.handler()
async def h(ctx: ObjectContext, prompt: str) -> str:
    return await ctx.run_typed(
        "llm", lambda: client.responses.create(model="m", input=prompt).output_text
    )
""",
        "functools.partial action": """
import functools
import requests

def send(url: str) -> int:
    return requests.get(url).status_code

@svc.handler()
async def h(ctx: Context) -> int:
    return await ctx.run_typed("send", functools.partial(send, "https://x.example"))
""",
        "a nested def handed to a wrapper that builds the action": """
import requests

def terminal_on_error(fn):
    def go():
        try:
            return fn()
        except ValueError as error:
            raise restate.TerminalError(str(error))
    return go

@svc.handler()
async def h(ctx: Context, url: str) -> int:
    def fetch() -> int:
        return requests.get(url).status_code

    return await ctx.run_typed("fetch", terminal_on_error(fetch))
""",
        "a module-level client created at start-up": """
import httpx

CLIENT = httpx.Client()

@svc.handler()
async def h(ctx: Context) -> None:
    await ctx.sleep(timedelta(seconds=1))
""",
        "open() in a plain function no handler calls": """
def load_config() -> str:
    with open("config.json") as f:
        return f.read()

@svc.handler()
async def h(ctx: Context) -> str:
    return "ok"
""",
        "a local variable named requests": """
@svc.handler()
async def h(ctx: Context, requests: list[str]) -> int:
    requests.append("x")
    return len(requests)
""",
    },
    "RW105": {
        "environment read at module level": """
REGION = os.environ.get("REGION", "eu")

@svc.handler()
async def h(ctx: Context) -> str:
    return REGION
""",
        "environment read inside the action": """
@svc.handler()
async def h(ctx: Context) -> str:
    return await ctx.run_typed("env", lambda: os.environ.get("X", ""))
""",
        "lazy client set-up on first use": """
_CLIENT = None

def client() -> object:
    global _CLIENT
    if _CLIENT is None:
        _CLIENT = {"key": os.environ["API_KEY"]}
    return _CLIENT

@svc.handler()
async def h(ctx: Context) -> None:
    await ctx.run_typed("use", lambda: client())
""",
        "a dict named environ that is local": """
@svc.handler()
async def h(ctx: Context, environ: dict) -> str:
    return environ.get("x", "")
""",
    },
    "RW201": {
        "durable steps between runs": """
@obj.handler()
async def h(ctx: ObjectContext) -> None:
    value = await ctx.run_typed("fetch", lambda: 42)
    ctx.set("k", value)
""",
        "ctx.key() inside an action": """
def save(key: str) -> None:
    pass

@obj.handler()
async def h(ctx: ObjectContext) -> None:
    await ctx.run_typed("save", lambda: save(ctx.key()))
""",
        "an action parameter that shadows ctx": """
@svc.handler()
async def h(ctx: Context) -> None:
    def step(ctx: dict) -> int:
        return ctx.get("x", 0)

    await ctx.run_typed("step", step, ctx={"x": 1})
""",
        "a durable helper called between actions": """
async def remember(ctx: ObjectContext, v: int) -> None:
    ctx.set("v", v)

@obj.handler()
async def h(ctx: ObjectContext) -> None:
    v = await ctx.run_typed("v", lambda: 1)
    await remember(ctx, v)
""",
    },
    "RW301": {
        "restate.gather": """
@svc.handler()
async def h(ctx: Context) -> None:
    a, b = await restate.gather(ctx.service_call(h, arg=1), ctx.service_call(h, arg=2))
""",
        "asyncio.gather in a plain function never called from a handler": """
async def warm_up(urls: list[str]) -> None:
    await asyncio.gather(*[asyncio.sleep(0) for _ in urls])

@svc.handler()
async def h(ctx: Context) -> None:
    pass
""",
        "asyncio.gather inside an action": """
async def fetch_all() -> list[int]:
    return await asyncio.gather(asyncio.sleep(0, 1), asyncio.sleep(0, 2))

@svc.handler()
async def h(ctx: Context) -> list[int]:
    return await ctx.run_typed("all", fetch_all)
""",
        "restate.select with a timeout": """
@svc.handler()
async def h(ctx: Context) -> str:
    _, promise = ctx.awakeable(type_hint=str)
    match await restate.select(done=promise, timeout=ctx.sleep(timedelta(seconds=30))):
        case ["done", value]:
            return value
        case _:
            return "timeout"
""",
        "restate.as_completed": """
@svc.handler()
async def h(ctx: Context) -> None:
    async for future in restate.as_completed(ctx.service_call(h, arg=1)):
        await future
""",
    },
    "RW401": {
        "state in ctx.set": """
@obj.handler()
async def h(ctx: ObjectContext, item: str) -> None:
    cart = await ctx.get("cart") or []
    cart.append(item)
    ctx.set("cart", cart)
""",
        "a local list shadows a module list": """
ITEMS = []

@svc.handler()
async def h(ctx: Context) -> list[int]:
    ITEMS = []
    ITEMS.append(1)
    return ITEMS
""",
        "a module list only read": """
ALLOWED = ["a", "b"]

@svc.handler()
async def h(ctx: Context, x: str) -> bool:
    return x in ALLOWED
""",
        "mutation in a function no handler calls": """
REGISTRY = {}

def register(name: str) -> None:
    REGISTRY[name] = True

@svc.handler()
async def h(ctx: Context) -> None:
    pass
""",
        "a lazily created client cached in a global": """
_client = None

def get_client() -> object:
    global _client
    if _client is None:
        _client = object()
    return _client

@svc.handler()
async def h(ctx: Context) -> None:
    await ctx.run_typed("x", lambda: get_client())
""",
    },
    "RW501": {
        "a shared handler that sleeps": """
@obj.handler(kind="shared")
async def h(ctx: ObjectSharedContext) -> None:
    await ctx.sleep(timedelta(days=1))
""",
        "a service handler that sleeps": """
@svc.handler()
async def h(ctx: Context) -> None:
    await ctx.sleep(timedelta(days=1))
""",
        "a delayed send instead": """
@obj.handler()
async def h(ctx: ObjectContext) -> None:
    ctx.object_send(h, key=ctx.key(), arg=None, send_delay=timedelta(days=1))
""",
        "a short poll in an exclusive handler": """
@obj.handler()
async def h(ctx: ObjectContext) -> None:
    while await ctx.run_typed("status", lambda: "PENDING") == "PENDING":
        await ctx.sleep(timedelta(seconds=5))
""",
        "the only exclusive handler waits for an approval": """
@obj.handler()
async def review(ctx: ObjectContext, claim: str) -> str:
    approval_id, approval = ctx.awakeable(type_hint=str)
    await ctx.run_typed("ask", lambda: print(approval_id))
    return await approval

@obj.handler(kind="shared")
async def status(ctx: ObjectSharedContext) -> str:
    return "?"
""",
        "minutes in the object's only exclusive handler": """
@obj.handler()
async def start_delivery(ctx: ObjectContext) -> bool:
    ctx.set("status", "SCHEDULED")
    await ctx.sleep(timedelta(minutes=5))
    ctx.set("status", "DELIVERED")
    return True

@obj.handler(kind="shared")
async def status(ctx: ObjectSharedContext) -> str:
    return await ctx.get("status") or "?"
""",
        "the workflow's run sleeps": """
@wf.main()
async def run(ctx: WorkflowContext) -> None:
    await ctx.sleep(timedelta(days=3))
""",
    },
    "RW502": {
        "a one-way send back": """
@obj.handler()
async def h(ctx: ObjectContext) -> None:
    ctx.object_send(h, key=ctx.key(), arg=None)
""",
        "a call to another key of the same object": """
@obj.handler()
async def h(ctx: ObjectContext, child: str) -> None:
    await ctx.object_call(h, key=child, arg=None)
""",
        "the way back is a shared handler": """
other = restate.VirtualObject("Other")

@obj.handler()
async def a(ctx: ObjectContext, k: str) -> None:
    await ctx.object_call(b, key=k, arg=ctx.key())

@other.handler()
async def b(ctx: ObjectContext, k: str) -> None:
    await ctx.object_call(c, key=k, arg=None)

@obj.handler(kind="shared")
async def c(ctx: ObjectSharedContext) -> None:
    pass
""",
        "a service in between": """
@obj.handler()
async def a(ctx: ObjectContext) -> None:
    await ctx.service_call(relay, arg=ctx.key())

@svc.handler()
async def relay(ctx: Context, k: str) -> None:
    await ctx.object_call(a, key=k, arg=None)
""",
        "calls without a way back": """
other = restate.VirtualObject("Other")

@obj.handler()
async def a(ctx: ObjectContext, k: str) -> None:
    await ctx.object_call(b, key=k, arg=None)

@other.handler()
async def b(ctx: ObjectContext) -> None:
    ctx.set("x", 1)
""",
    },
    "RW601": {
        "durable promise between workflow handlers": """
@wf.main()
async def run(ctx: WorkflowContext) -> str:
    return await ctx.promise("approval", type_hint=str).value()

@wf.handler()
async def approve(ctx: restate.WorkflowSharedContext) -> None:
    await ctx.promise("approval", type_hint=str).resolve("ok")
""",
        "awakeable for an external system": """
def send_email(awakeable_id: str) -> None:
    pass

@wf.main()
async def run(ctx: WorkflowContext) -> str:
    awakeable_id, promise = ctx.awakeable(type_hint=str)
    await ctx.run_typed("email", send_email, awakeable_id=awakeable_id)
    return await promise
""",
        "an external callback with a deadline handler": """
def create_payment(awakeable_id: str) -> str:
    return awakeable_id

@wf.main()
async def run(ctx: WorkflowContext) -> str:
    awakeable_id, payment = ctx.awakeable(type_hint=str)
    ctx.set("awakeable_id", awakeable_id)
    await ctx.run_typed("payment", create_payment, awakeable_id=awakeable_id)
    ctx.workflow_send(expire, ctx.key(), None, send_delay=timedelta(minutes=30))
    return await payment

@wf.handler()
async def expire(ctx: restate.WorkflowSharedContext) -> None:
    awakeable_id = await ctx.get("awakeable_id")
    ctx.reject_awakeable(awakeable_id, "deadline passed")
""",
        "a service resolves an awakeable": """
@svc.handler()
async def callback(ctx: Context, awakeable_id: str) -> None:
    ctx.resolve_awakeable(awakeable_id, "ok")

@wf.main()
async def run(ctx: WorkflowContext) -> str:
    _, promise = ctx.awakeable(type_hint=str)
    return await promise
""",
        "an object creating and another object resolving": """
other = restate.VirtualObject("Other")

@obj.handler()
async def wait(ctx: ObjectContext) -> None:
    _, promise = ctx.awakeable()
    await promise

@other.handler()
async def done(ctx: ObjectContext, i: str) -> None:
    ctx.resolve_awakeable(i, None)
""",
    },
    "RW701": {
        "ingress client in ordinary code": """
from restate_web.ingress import IngressClient

def start_checkout(order: dict) -> None:
    with IngressClient() as client:
        client.service("Checkout").send("run", order)

@svc.handler()
async def h(ctx: Context) -> None:
    pass
""",
        "ctx.service_call": """
@svc.handler()
async def h(ctx: Context) -> None:
    await ctx.service_call(h, arg=None)
""",
        "create_client at module level": """
client = restate.create_client("http://localhost:8080")

@svc.handler()
async def h(ctx: Context) -> None:
    pass
""",
        "ingress client inside an action": """
from restate_web.ingress import IngressClient

def forward() -> None:
    with IngressClient() as client:
        client.service("X").send("y", 1)

@svc.handler()
async def h(ctx: Context) -> None:
    await ctx.run_typed("forward", forward)
""",
    },
    "RW801": {
        "durable_function_tool": """
from restate.ext.openai import durable_function_tool

@durable_function_tool
async def get_weather(city: str) -> str:
    return city
""",
        "function_tool with failure_error_function": """
from agents import function_tool
from restate.ext.openai import raise_terminal_errors

@function_tool(failure_error_function=raise_terminal_errors)
async def get_weather(city: str) -> str:
    return city
""",
        "function_tool in a module without Restate": """#!no-header
from agents import function_tool

@function_tool
def lookup(x: str) -> str:
    return x
""",
        "a different decorator named tool": """
from langchain_core.tools import tool

@tool
def lookup(x: str) -> str:
    return x
""",
    },
    "RW901": {
        "specific exception": """
from restate import TerminalError

@svc.handler()
async def h(ctx: Context) -> None:
    try:
        await ctx.run_typed("x", lambda: 1)
    except TerminalError:
        ctx.set("failed", True)
        raise
""",
        "except Exception that re-raises": """
import logging

@svc.handler()
async def h(ctx: Context) -> None:
    try:
        await ctx.service_call(h, arg=None)
    except Exception:
        logging.exception("call failed")
        raise
""",
        "except Exception inside the action": """
def fetch() -> str:
    try:
        return "x"
    except Exception:
        return "fallback"

@svc.handler()
async def h(ctx: Context) -> str:
    return await ctx.run_typed("fetch", fetch)
""",
        "TerminalError handled before except Exception": """
@svc.handler()
async def h(ctx: Context) -> str:
    try:
        return await ctx.service_call(h, arg=None)
    except restate.TerminalError:
        raise
    except Exception:
        return "retry later"
""",
        "broad except around code without durable steps": """
@svc.handler()
async def h(ctx: Context, text: str) -> int:
    try:
        value = int(text)
    except Exception:
        value = 0
    return value
""",
        "bare except that re-raises": """
@svc.handler()
async def h(ctx: Context) -> None:
    try:
        await ctx.sleep(timedelta(seconds=1))
    except:
        print("cleanup")
        raise
""",
    },
    "RW902": {
        "sorted set": """
@svc.handler()
async def h(ctx: Context, users: list[str]) -> None:
    for user in sorted(set(users)):
        ctx.object_send(h, key=user, arg=None)
""",
        "a list": """
@svc.handler()
async def h(ctx: Context, users: list[str]) -> None:
    for user in users:
        ctx.object_send(h, key=user, arg=None)
""",
        "a set loop without durable operations": """
@svc.handler()
async def h(ctx: Context, users: list[str]) -> int:
    n = 0
    for user in set(users):
        n += len(user)
    return n
""",
        "a dict (insertion ordered)": """
@svc.handler()
async def h(ctx: Context, amounts: dict[str, int]) -> None:
    for user, amount in amounts.items():
        ctx.object_send(h, key=user, arg=amount)
""",
    },
}
