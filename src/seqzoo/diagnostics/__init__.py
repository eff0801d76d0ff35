"""Diagnostics that show why architectures differ (torch only, like seqzoo.models)."""

from seqzoo.diagnostics.gradient_flow import gradient_flow

__all__ = ["gradient_flow"]
