"""The case families labgate runs on OpenFOAM (cavity, channel, step, hill, flat plate): typed parameters,
generated case files, analyses and the reference data each is compared with."""
