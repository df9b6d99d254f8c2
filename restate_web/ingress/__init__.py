"""Reach Restate from ordinary Python code through its HTTP ingress, blocking or async.

>>> from restate_web.ingress import IngressClient
>>> with IngressClient() as restate:
...     restate.service("Greeter").call("greet", "Ada")
"""

from ._async import (
    AsyncAwakeableHandle,
    AsyncIngressClient,
    AsyncInvocationHandle,
    AsyncObjectHandle,
    AsyncSendHandle,
    AsyncServiceHandle,
    AsyncWorkflowHandle,
)
from ._core import (
    DEFAULT_TIMEOUT,
    CallBinding,
    RetryPolicy,
    SendReceipt,
    Target,
    current_restate_context,
)
from ._errors import (
    IngressError,
    IngressInHandlerError,
    IngressTimeout,
    IngressUnavailable,
    InvocationFailed,
    NotFound,
    NotReady,
)
from ._handles import CallOptions, SendOptions
from ._sync import (
    AwakeableHandle,
    IngressClient,
    InvocationHandle,
    ObjectHandle,
    SendHandle,
    ServiceHandle,
    WorkflowHandle,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncAwakeableHandle",
    "AsyncIngressClient",
    "AsyncInvocationHandle",
    "AsyncObjectHandle",
    "AsyncSendHandle",
    "AsyncServiceHandle",
    "AsyncWorkflowHandle",
    "AwakeableHandle",
    "CallBinding",
    "CallOptions",
    "IngressClient",
    "IngressError",
    "IngressInHandlerError",
    "IngressTimeout",
    "IngressUnavailable",
    "InvocationFailed",
    "InvocationHandle",
    "NotFound",
    "NotReady",
    "ObjectHandle",
    "RetryPolicy",
    "SendHandle",
    "SendOptions",
    "SendReceipt",
    "ServiceHandle",
    "Target",
    "WorkflowHandle",
    "current_restate_context",
]
