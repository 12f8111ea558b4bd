"""The dashboard front door: server-rendered pages over the run store, their templates and static files."""
