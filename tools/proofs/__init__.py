"""Proof workload: Coq prover backend, miniF2F catalog, proof assembly."""
