"""The id of the request being served, for audit events; the CLI and tests leave it empty."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("billops_request_id", default="")
