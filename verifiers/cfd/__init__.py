"""Gates for OpenFOAM cases."""

from verifiers.cfd._comparator import COMPARATORS, ComparatorGate
from verifiers.cfd._solver_log import SolverLogGate

__all__ = ["COMPARATORS", "ComparatorGate", "SolverLogGate"]
