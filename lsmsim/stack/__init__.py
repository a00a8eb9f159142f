"""Namespace stacks: a tree of layers, each with its own LSM policy, checked layer
by layer and simulated access by access."""
from .check import LayerPairResult, StackResult, check_pair, check_stack
from .manifest import LayerSpec, Manifest, read_manifest
from .request_text import parse_request, read_requests, request_to_text
from .simulate import LayerDecision, Simulation, simulate
from .stack import Layer, Stack, load_stack

__all__ = ["Layer", "LayerDecision", "LayerPairResult", "LayerSpec", "Manifest", "Simulation",
           "Stack", "StackResult", "check_pair", "check_stack", "load_stack", "parse_request",
           "read_manifest", "read_requests", "request_to_text", "simulate"]
