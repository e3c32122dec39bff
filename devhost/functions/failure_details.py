"""The ``Details`` text of failures, as the real host writes it (pure, no I/O).

Orchestrators see a failed activity or sub-orchestration as
``Exception(f"{Reason} \\n {Details}")`` (SDK ``TaskOrchestrationExecutor``), and users parse
that text, so its shape matters:

- Activity (``TaskFailed.Details``): the extension's ``TaskActivityShim`` wraps the worker's
  ``RpcException`` in ``new Exception(" <Type>: <message>", rpcException)`` and stores
  ``Utils.SerializeCause`` of it: Json.NET with ``TypeNameHandling.Objects`` and without
  ``TargetSite`` (``ErrorSerializerSettingsFactory``), one line of JSON whose ``Message`` is
  the friendly message. The worker's ``RpcException`` carries ``"Result: Failure\\nException:
  <Type>: <message>\\nStack: <stack>"`` (azure-functions-host ``RpcException``; the worker's
  ``_serialize_exception`` and ``marshall_exception_trace`` give the message and stack).
- Sub-orchestration (``SubOrchestrationInstanceFailed.Details``): the extension's
  ``OutOfProcOrchestrationShim`` throws ``OrchestrationFailureException(reason,
  $"Message: {error}, StackTrace: {stack}")`` and DTFx passes those details to the parent
  (``TaskOrchestrationDispatcher.ProcessWorkflowCompletedTaskDecision`` with ``IncludeDetails``
  set by the extension).

The .NET stack traces of the real host cannot exist here: the stack is the Python one.
"""

from __future__ import annotations

import json
import traceback
from types import TracebackType

__all__ = ["activity_failure_details", "orchestrator_failure_details", "worker_stack"]

_HRESULT_COR_E_EXCEPTION = -2146233088  # System.Exception's HResult
_EMPTY_DATA = {"$type": "System.Collections.ListDictionaryInternal, System.Private.CoreLib"}
# Json.NET writes non-ASCII characters as they are and compact separators.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def worker_stack(tb: TracebackType | None) -> str:
    """The worker's ``marshall_exception_trace``: the frames only, no header, no last line."""
    return "".join(traceback.StackSummary.extract(traceback.walk_tb(tb)).format())


def activity_failure_details(message: str, stack: str) -> str:
    """``TaskFailed.Details`` for an activity that raised; ``message`` is ``"<Type>: <msg>"``."""
    rpc_exception = {
        "$type": "Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException, "
        "Microsoft.Azure.WebJobs.Script",
        "IsUserException": False,
        "RemoteStackTrace": stack,
        "RemoteMessage": message,
        "RemoteTypeName": None,
        "Message": f"Result: Failure\nException: {message}\nStack: {stack}",
        "Data": _EMPTY_DATA,
        "InnerException": None,
        "HelpLink": None,
        "Source": "System.Private.CoreLib",
        "HResult": _HRESULT_COR_E_EXCEPTION,
        "StackTrace": None,
    }
    friendly = {
        "$type": "System.Exception, System.Private.CoreLib",
        # OutOfProcExceptionHelpers keeps the space after "Exception:".
        "Message": f" {message}",
        "Data": _EMPTY_DATA,
        "InnerException": rpc_exception,
        "HelpLink": None,
        "Source": None,
        "HResult": _HRESULT_COR_E_EXCEPTION,
        "StackTrace": None,
    }
    return _ENCODER.encode(friendly)


def orchestrator_failure_details(error: str, stack: str) -> str:
    """What a parent receives as ``Details`` when its sub-orchestration failed."""
    return f"Message: {error}, StackTrace: {stack}"
