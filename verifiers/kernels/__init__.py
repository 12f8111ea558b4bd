"""Kernel gates: correctness re-measured by the gate, and held-out sizes evaluated once at the end."""

from verifiers.kernels._gates import KernelCorrectnessGate, KernelHeldoutGate
from verifiers.kernels._measure import SideBySide, SpeedDecision, measure

__all__ = ["KernelCorrectnessGate", "KernelHeldoutGate", "SideBySide", "SpeedDecision", "measure"]
