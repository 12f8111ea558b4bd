"""`agent serve`: the REST API and dashboard, with runs executed by a worker pool beside them."""

from __future__ import annotations

import click

from api._settings import Settings
from api.cli._isolation import announce_isolation_gaps


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to bind")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="port to bind")
@click.option(
    "--workers",
    "run_workers",
    type=click.IntRange(min=0, max=64),
    default=None,
    help="runs executed at once (default LABGATE_RUN_WORKERS or 2; 0 only queues)",
)
def serve_command(host: str, port: int, run_workers: int | None) -> None:
    """Serve the REST API and the dashboard (http://HOST:PORT/).

    Binding anything but a loopback address needs LABGATE_API_TOKEN: every mutating call then
    requires `Authorization: Bearer <token>`."""
    # Imported here: the REST stack (FastAPI) costs every other `agent` command a fifth of a second.
    from api.rest._security import is_loopback

    settings = Settings()
    if run_workers is not None:
        settings = settings.model_copy(update={"run_workers": run_workers})
    if not is_loopback(host) and settings.api_token is None:
        raise click.UsageError(
            f"refusing to serve on {host}, which is not a loopback address, without LABGATE_API_TOKEN: "
            "set a token (mutating calls will require it) or bind 127.0.0.1"
        )
    import uvicorn

    from api._app import create_app

    app = create_app(settings)
    announce_isolation_gaps("local", unsafe_no_isolation=False)  # runs use the local sandbox unless they ask
    click.echo(f"labgate: serving http://{host}:{port}/ (runs: {settings.home}, workers: {settings.run_workers})")
    # Keep-alive beyond uvicorn's 5 s: dashboards poll every 2 s and busy clients pause between calls.
    uvicorn.run(
        app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False, timeout_keep_alive=30
    )
