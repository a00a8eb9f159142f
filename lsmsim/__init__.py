"""lsmsim: prove that a nested Linux Security Module policy stays within the policy
of the namespace above it, or report each expansion with a concrete witness."""
__version__ = "0.1.0"

from .api import check, decide_request, detect_lsm, load
from .errors import LsmsimError, PolicyError, UsageError
from .graph import transitions
from .model.requests import CapabilityRequest, ExecRequest, FileRequest, NetworkRequest
from .stack import Stack, StackResult, check_stack, load_stack, simulate
from .verify.result import CheckResult, Denial, Verdict


__all__ = ["CapabilityRequest", "CheckResult", "Denial", "ExecRequest", "FileRequest",
           "LsmsimError", "NetworkRequest", "PolicyError", "Stack", "StackResult", "UsageError",
           "Verdict", "check", "check_stack", "decide_request", "detect_lsm", "load",
           "load_stack", "simulate", "transitions"]
