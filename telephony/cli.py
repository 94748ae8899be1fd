"""``frontoffice telephony``: the process that keeps the Asterisk AMI link beside several web
processes sharing Redis (docs/telephony.md; embedded, the web process keeps it: telephony.listener)."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import click


def refusal(settings: Any) -> str | None:
    """Why this command may not keep the AMI link under ``settings`` (None: it may)."""
    from telephony.listener import listener_mode

    if (settings.telephony or "").lower() != "asterisk":
        return "FRONTOFFICE_TELEPHONY is not asterisk: there is no AMI link to keep."
    if not settings.ami_username:
        return "set FRONTOFFICE_AMI_USERNAME and FRONTOFFICE_AMI_SECRET (manager.conf)."
    try:
        mode = listener_mode(settings)
    except ValueError as exc:
        return str(exc)
    if not settings.redis_url:
        return (
            "set FRONTOFFICE_REDIS_URL: this process reaches the operators' browsers through the "
            "Socket.IO Redis queue the web processes share. Without Redis the web process keeps the AMI "
            "link itself (FRONTOFFICE_TELEPHONY_LISTENER=auto or thread): this command is not needed."
        )
    if mode == "thread":
        return (
            "FRONTOFFICE_TELEPHONY_LISTENER is thread: the web process keeps the AMI link, and a second "
            "link here would record and ring every call twice. Set it to process (or auto) to keep the "
            "link in this command."
        )
    if mode == "off":
        return "FRONTOFFICE_TELEPHONY_LISTENER is off: nobody is to keep the AMI link."
    return None


@click.command("telephony")
def telephony() -> None:
    """Keep the link to Asterisk's manager interface: record every call, ring the operators'
    workspaces, reconnect after any break (waiting longer after each failure), until stopped.

    It emits to the browsers through the Socket.IO Redis queue (FRONTOFFICE_REDIS_URL), as the
    outbox worker does, and runs where FRONTOFFICE_TELEPHONY_LISTENER is process (the default with
    Redis). Without Redis the web process keeps the link itself: this command is not needed. Mango
    Office needs no such process: it posts to the web app."""
    from frontoffice.app import create_app
    from frontoffice.kernel import kernel_of
    from frontoffice.migrate import upgrade
    from frontoffice.settings import Settings
    from telephony.adapters.asterisk_ami import AmiLink, ami_config
    from telephony.ports import TELEPHONY

    why_not = refusal(Settings.from_env())
    if why_not:
        click.echo(f"error: {why_not}", err=True)
        sys.exit(2)
    # The link runs in the foreground here: this command's app starts no background service.
    overrides: dict[str, Any] = {"socketio_write_only": True, "background_services": False}
    if (os.environ.get("FRONTOFFICE_RELAY") or "thread") == "thread":
        overrides["relay"] = "inline"
    app = create_app(overrides)
    kernel = kernel_of(app)
    settings = kernel.settings
    upgrade(settings.database_url)
    link = AmiLink(ami_config(settings), kernel.extensions.get(TELEPHONY).desk)

    def stop(_signum: int, _frame: Any) -> None:
        link.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"AMI link to {settings.ami_host}:{settings.ami_port} as {settings.ami_username}")
    link.run_forever()
    click.echo("AMI link stopped")
