"""OpenFOAM input and output, with no knowledge of any case family: dictionaries written and read back,
field and log files parsed, meshes and patches read, utilities run in a sandbox."""
