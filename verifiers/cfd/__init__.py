"""Gates for OpenFOAM cases."""

from verifiers.cfd._comparator import COMPARATORS, ComparatorGate
from verifiers.cfd._heldout import HeldOutGate
from verifiers.cfd._mesh import MeshIndependenceGate
from verifiers.cfd._physics import PhysicalRangeGate
from verifiers.cfd._reproduction import ReproductionGate
from verifiers.cfd._solver_log import SolverLogGate
from verifiers.cfd._vision import VisionGate, blank_fraction, checkerboard_index

__all__ = [
    "COMPARATORS",
    "ComparatorGate",
    "HeldOutGate",
    "MeshIndependenceGate",
    "PhysicalRangeGate",
    "ReproductionGate",
    "SolverLogGate",
    "VisionGate",
    "blank_fraction",
    "checkerboard_index",
]
