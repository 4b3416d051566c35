"""What every feature and the generated API share: the subject prefix, requests, paging, the codec."""

from ._build import config_token, extend, merge_config
from ._replies import replies
from ._request import DEFAULT, MAX_PAGES, Core, RawMessage, Timeout, resolve_prefix
from ._trace import ClientTrace, RequestDone, RequestSent, check_trace

__all__ = [
    "DEFAULT",
    "MAX_PAGES",
    "ClientTrace",
    "Core",
    "RawMessage",
    "RequestDone",
    "RequestSent",
    "Timeout",
    "check_trace",
    "config_token",
    "extend",
    "merge_config",
    "replies",
    "resolve_prefix",
]
