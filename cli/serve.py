"""``suiji serve``: the workbench, a local web page over the same library the commands call."""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path

import click

from suiji.cli.main import Env, domain_errors, pass_env

LOOPBACK_NAMES = ("localhost",)


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; loopback only (127.0.0.1, ::1, localhost).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@pass_env
def serve(env: Env, host: str, port: int) -> None:
    """Open the workbench (工作台): the whole quarter in a browser, in Chinese.

    Serves --db (and --rules) on http://127.0.0.1:8000/ until Ctrl+C. Every
    action is the same library call the commands make and goes on the same
    trail. Only this computer can connect: a host other than loopback is
    refused, since the workbench has no accounts yet.

    \b
    Example:
      suiji --db demo-out/suiji.db --rules demo-out/rules.toml serve
      suiji serve --port 8080
    """
    if not _loopback(host):
        raise click.UsageError(
            f"--host {host} is not a loopback address. The workbench has no accounts, so it "
            f"only listens on this computer (127.0.0.1, ::1 or localhost).")
    import uvicorn

    from suiji.data.store import Store
    from suiji.web.app import create_app
    from suiji.web.core import WebConfig

    with domain_errors():
        Store.open(env.db).close()
    with tempfile.TemporaryDirectory(prefix="suiji-web-") as work:
        app = create_app(WebConfig(db=Path(env.db), rules_path=env.rules_path,
                                   work_dir=Path(work)))
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"工作台 workbench: http://{shown}:{port}/  (database {env.db}; Ctrl+C to stop)",
                   err=True)
        uvicorn.run(app, host=host.strip("[]"), port=port, log_level="warning")


def register(cli: click.Group) -> None:
    cli.add_command(serve)
