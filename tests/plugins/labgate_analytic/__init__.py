"""A fourth workload, registered only through entry points: proof that a workload plugs in from outside.

Each layer is its own module, as in labgate: `workload` (tools), `gate` (verifiers), `proposer`
(agents); loading the workload imports neither of the others.
"""
