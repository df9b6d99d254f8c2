"""What the checker knows about the outside world: which qualified names do what.

Names are fully qualified as the import statements of the linted file spell them
(``from datetime import datetime`` makes ``datetime.now`` the name ``datetime.datetime.now``).
"""

from __future__ import annotations

SERVICE_CLASSES = {
    "restate.Service": "service",
    "restate.service.Service": "service",
    "restate.VirtualObject": "object",
    "restate.object.VirtualObject": "object",
    "restate.Workflow": "workflow",
    "restate.workflow.Workflow": "workflow",
}

# Parameter annotations that make a parameter a Restate context.
CONTEXT_TYPE_SUFFIXES = ("Context", "SharedContext")

WALL_CLOCK = frozenset(
    {
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
        "time.localtime",
        "time.gmtime",
        "time.ctime",
        "time.asctime",
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "django.utils.timezone.now",
        "pendulum.now",
        "pendulum.today",
        "arrow.now",
        "arrow.utcnow",
    }
)

# Module-level functions of `random` that draw from the shared, unseeded generator.
RANDOM_FUNCTIONS = frozenset(
    {
        "random",
        "randint",
        "randrange",
        "randbytes",
        "getrandbits",
        "choice",
        "choices",
        "sample",
        "shuffle",
        "uniform",
        "triangular",
        "gauss",
        "normalvariate",
        "lognormvariate",
        "expovariate",
        "vonmisesvariate",
        "gammavariate",
        "betavariate",
        "paretovariate",
        "weibullvariate",
        "binomialvariate",
        "SystemRandom",
    }
)
RANDOM_OTHER = frozenset(
    {
        "os.urandom",
        "os.getrandom",
        "uuid.uuid1",
        "uuid.uuid4",
        "secrets.token_bytes",
        "secrets.token_hex",
        "secrets.token_urlsafe",
        "secrets.choice",
        "secrets.randbelow",
        "secrets.randbits",
        "secrets.SystemRandom",
    }
)
# Clock readers that only read the clock when called without an argument.
WALL_CLOCK_WITHOUT_ARGUMENT = frozenset(
    {"time.localtime", "time.gmtime", "time.ctime", "time.asctime"}
)

NATIVE_SLEEP = frozenset(
    {"time.sleep", "asyncio.sleep", "asyncio.tasks.sleep", "trio.sleep", "anyio.sleep"}
)
EVENT_LOOP_GETTERS = frozenset({"asyncio.get_event_loop", "asyncio.get_running_loop"})

# Calling these is I/O.
IO_FUNCTIONS = frozenset(
    {
        "builtins.open",
        "io.open",
        "os.system",
        "os.popen",
        "os.remove",
        "os.unlink",
        "os.rename",
        "os.replace",
        "os.mkdir",
        "os.makedirs",
        "os.rmdir",
        "os.listdir",
        "os.scandir",
        "os.walk",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.move",
        "shutil.rmtree",
        "urllib.request.urlopen",
        "urllib.request.urlretrieve",
        "socket.create_connection",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "asyncio.open_connection",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "sqlite3.connect",
        "aiosqlite.connect",
        "psycopg.connect",
        "psycopg.AsyncConnection.connect",
        "psycopg2.connect",
        "asyncpg.connect",
        "asyncpg.create_pool",
        "pymysql.connect",
        "aiohttp.request",
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
        "litellm.completion",
        "litellm.acompletion",
        "litellm.embedding",
        "litellm.aembedding",
    }
)
# Every function of these modules is an I/O call (constructors of clients are not listed here:
# see CLIENT_FACTORIES; their method calls are the I/O).
IO_MODULE_FUNCTIONS = {
    "httpx": frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"}),
    "requests": frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"}),
    "subprocess": frozenset(
        {"run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput"}
    ),
}
IO_PREFIXES = (
    "openai.chat.",
    "openai.completions.",
    "openai.embeddings.",
    "openai.responses.",
    "openai.images.",
    "openai.audio.",
    "openai.ChatCompletion.",
    "openai.Completion.",
    "openai.Embedding.",
)

# Calling these returns an object whose methods do I/O.
CLIENT_FACTORIES = frozenset(
    {
        "httpx.Client",
        "httpx.AsyncClient",
        "requests.Session",
        "requests.session",
        "aiohttp.ClientSession",
        "urllib3.PoolManager",
        "openai.OpenAI",
        "openai.AsyncOpenAI",
        "openai.AzureOpenAI",
        "openai.AsyncAzureOpenAI",
        "anthropic.Anthropic",
        "anthropic.AsyncAnthropic",
        "boto3.client",
        "boto3.resource",
        "redis.Redis",
        "redis.StrictRedis",
        "redis.from_url",
        "redis.asyncio.Redis",
        "redis.asyncio.from_url",
        "pymongo.MongoClient",
        "motor.motor_asyncio.AsyncIOMotorClient",
        "sqlalchemy.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.orm.Session",
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlite3.connect",
        "aiosqlite.connect",
        "psycopg.connect",
        "psycopg2.connect",
        "asyncpg.connect",
        "asyncpg.create_pool",
        "pymysql.connect",
        "socket.socket",
        "socket.create_connection",
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
        "google.genai.Client",
        "stripe.StripeClient",
        "flask_sqlalchemy.SQLAlchemy",
        "elasticsearch.Elasticsearch",
        "elasticsearch.AsyncElasticsearch",
        "kafka.KafkaProducer",
        "aiokafka.AIOKafkaProducer",
        "confluent_kafka.Producer",
        "pika.BlockingConnection",
        "google.cloud.storage.Client",
        "google.cloud.firestore.Client",
        "cohere.Client",
        "mistralai.Mistral",
        "groq.Groq",
        "groq.AsyncGroq",
    }
)
# Calling these returns a factory; calling the factory returns a client.
CLIENT_FACTORY_MAKERS = frozenset(
    {"sqlalchemy.orm.sessionmaker", "sqlalchemy.ext.asyncio.async_sessionmaker"}
)
# Methods of a client that return another client (a connection, a cursor, a session...).
CLIENT_RETURNING_METHODS = frozenset(
    {
        "client",
        "resource",
        "connect",
        "acquire",
        "cursor",
        "session",
        "begin",
        "pipeline",
        "get_database",
        "get_collection",
        "Table",
        "Bucket",
    }
)
# Methods of a client that do no I/O worth journaling.
CLIENT_QUIET_METHODS = frozenset({"close", "aclose", "__enter__", "__aenter__"})

PATH_CLASSES = frozenset({"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"})
PATH_IO_METHODS = frozenset(
    {
        "read_text",
        "write_text",
        "read_bytes",
        "write_bytes",
        "open",
        "unlink",
        "mkdir",
        "touch",
        "rmdir",
        "rename",
        "replace",
        "iterdir",
        "glob",
        "rglob",
    }
)

ENV_READS = frozenset({"os.getenv", "os.getenvb"})
ENV_OBJECTS = frozenset({"os.environ", "os.environb"})

NATIVE_CONCURRENCY = frozenset(
    {
        "asyncio.gather",
        "asyncio.wait",
        "asyncio.wait_for",
        "asyncio.as_completed",
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.TaskGroup",
        "asyncio.to_thread",
        "asyncio.shield",
        "asyncio.tasks.gather",
        "asyncio.tasks.wait",
        "asyncio.tasks.create_task",
        "threading.Thread",
        "threading.Timer",
        "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.ProcessPoolExecutor",
        "multiprocessing.Process",
        "multiprocessing.Pool",
        "anyio.create_task_group",
        "anyio.to_thread.run_sync",
    }
)

INGRESS_CLIENTS = frozenset(
    {
        "restate.create_client",
        "restate.client.create_client",
        "restate_web.ingress.IngressClient",
        "restate_web.ingress.AsyncIngressClient",
        "restate_web.IngressClient",
        "restate_web.AsyncIngressClient",
    }
)

FUNCTION_TOOLS = frozenset({"agents.function_tool", "agents.tool.function_tool"})

RESTATE_COMBINATORS = frozenset(
    {
        "restate.gather",
        "restate.select",
        "restate.wait_completed",
        "restate.as_completed",
        "restate.ext.openai.DurableRunner.run",
    }
)

# Methods of a Restate context that are durable steps (journal entries).
DURABLE_METHODS = frozenset(
    {
        "get",
        "set",
        "clear",
        "clear_all",
        "state_keys",
        "run",
        "run_typed",
        "sleep",
        "service_call",
        "service_send",
        "object_call",
        "object_send",
        "workflow_call",
        "workflow_send",
        "generic_call",
        "generic_send",
        "awakeable",
        "resolve_awakeable",
        "reject_awakeable",
        "promise",
        "time",
        "random",
        "uuid",
        "cancel_invocation",
        "attach_invocation",
    }
)
# Durable steps whose failure reaches the handler as a TerminalError.
FAILING_METHODS = frozenset(
    {
        "run",
        "run_typed",
        "service_call",
        "object_call",
        "workflow_call",
        "generic_call",
        "attach_invocation",
    }
)

MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "update",
        "add",
        "pop",
        "popitem",
        "remove",
        "discard",
        "clear",
        "setdefault",
        "appendleft",
        "extendleft",
        "popleft",
        "__setitem__",
    }
)
CONTAINER_CONSTRUCTORS = frozenset(
    {
        "builtins.list",
        "builtins.dict",
        "builtins.set",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.deque",
        "collections.Counter",
    }
)
SET_CONSTRUCTORS = frozenset({"builtins.set", "builtins.frozenset"})
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)
