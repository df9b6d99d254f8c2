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
from ._core import RetryPolicy
from ._errors import (
    IngressError,
    IngressInHandlerError,
    IngressTimeout,
    IngressUnavailable,
    InvocationFailed,
    NotFound,
    NotReady,
)
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
    "AsyncAwakeableHandle",
    "AsyncIngressClient",
    "AsyncInvocationHandle",
    "AsyncObjectHandle",
    "AsyncSendHandle",
    "AsyncServiceHandle",
    "AsyncWorkflowHandle",
    "AwakeableHandle",
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
    "ServiceHandle",
    "WorkflowHandle",
]
