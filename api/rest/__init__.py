"""The REST front door: routes, request guards, and the worker pool that executes submitted runs.

`api._app.create_app` puts it together with the dashboard (`api.web`) into one server.
"""
