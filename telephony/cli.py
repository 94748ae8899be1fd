"""``frontoffice telephony``: the process that keeps the Asterisk AMI link (docs/telephony.md)."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import click


@click.command("telephony")
def telephony() -> None:
    """Keep the link to Asterisk's manager interface: record every call, ring the operators'
    workspaces, reconnect after any break (waiting longer after each failure), until stopped.

    It emits to the browsers through the Socket.IO Redis queue (FRONTOFFICE_REDIS_URL), as the
    outbox worker does. Mango Office needs no such process: it posts to the web app."""
    from frontoffice.app import create_app
    from frontoffice.kernel import kernel_of
    from frontoffice.migrate import upgrade
    from telephony.adapters.asterisk_ami import AmiLink, ami_config
    from telephony.ports import TELEPHONY

    overrides: dict[str, Any] = {"socketio_write_only": True}
    if (os.environ.get("FRONTOFFICE_RELAY") or "thread") == "thread":
        overrides["relay"] = "inline"
    app = create_app(overrides)
    kernel = kernel_of(app)
    settings = kernel.settings
    if (settings.telephony or "").lower() != "asterisk":
        click.echo("error: FRONTOFFICE_TELEPHONY is not asterisk: there is no AMI link to keep.", err=True)
        sys.exit(2)
    if not settings.ami_username:
        click.echo("error: set FRONTOFFICE_AMI_USERNAME and FRONTOFFICE_AMI_SECRET (manager.conf).", err=True)
        sys.exit(2)
    if not settings.redis_url:
        click.echo(
            "error: set FRONTOFFICE_REDIS_URL: this process reaches the operators' browsers through the "
            "Socket.IO Redis queue the web processes share.",
            err=True,
        )
        sys.exit(2)
    upgrade(settings.database_url)
    link = AmiLink(ami_config(settings), kernel.extensions.get(TELEPHONY).desk)

    def stop(_signum: int, _frame: Any) -> None:
        link.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"AMI link to {settings.ami_host}:{settings.ami_port} as {settings.ami_username}")
    link.run_forever()
    click.echo("AMI link stopped")
