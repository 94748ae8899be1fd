"""Who keeps the Asterisk AMI link (``FRONTOFFICE_TELEPHONY_LISTENER``, docs/telephony.md).

There must be one link per deployment: two would record every call and ring every operator twice.

* ``thread``: the serving web process keeps it, in a background task of its Socket.IO server (a
  greenlet on the gevent worker, cooperating with its patched sockets; a daemon thread on gthread),
  started in the gunicorn worker after the fork as the outbox relay's thread is, and rings the
  operators through that same server. The embedded default: one process, no Redis.
* ``process``: ``frontoffice telephony`` keeps it beside the web processes and rings through the
  Socket.IO Redis queue; the web processes do not connect.
* ``off``: nobody listens (click-to-call still works; operators type numbers).
* ``auto`` (the default): ``thread`` without ``FRONTOFFICE_REDIS_URL``, ``process`` with it.
"""

from __future__ import annotations

import logging

from frontoffice.kernel import Kernel
from frontoffice.settings import Settings
from telephony.adapters.asterisk_ami import AmiLink, ami_config
from telephony.ports import TELEPHONY

log = logging.getLogger(__name__)

LISTENER_MODES = ("auto", "thread", "process", "off")


def listener_mode(settings: Settings) -> str:
    """Who keeps the AMI link under ``settings``: ``thread``, ``process`` or ``off`` (always ``off``
    when the PBX is not Asterisk). Raises ValueError for an unknown setting."""
    mode = (settings.telephony_listener or "auto").strip().lower()
    if mode not in LISTENER_MODES:
        raise ValueError(
            f"FRONTOFFICE_TELEPHONY_LISTENER must be one of {', '.join(LISTENER_MODES)}, not {mode!r}"
        )
    if (settings.telephony or "").strip().lower() != "asterisk":
        return "off"
    if mode == "auto":
        return "process" if settings.redis_url else "thread"
    return mode


def start_listener(kernel: Kernel) -> AmiLink | None:
    """In the serving web process, when the link is this process's (``thread``): start it in a
    background task; the link, or None when this process keeps none."""
    settings = kernel.settings
    mode = listener_mode(settings)
    if mode == "process" and not settings.redis_url:
        log.warning(
            "FRONTOFFICE_TELEPHONY_LISTENER=process without FRONTOFFICE_REDIS_URL: `frontoffice telephony` "
            "cannot reach the browsers, so no call will ring a workspace"
        )
    if mode != "thread":
        return None
    if not settings.ami_username:
        log.error(
            "FRONTOFFICE_TELEPHONY=asterisk without FRONTOFFICE_AMI_USERNAME: no AMI link; "
            "set FRONTOFFICE_AMI_USERNAME and FRONTOFFICE_AMI_SECRET (manager.conf)"
        )
        return None
    link = AmiLink(ami_config(settings), kernel.extensions.get(TELEPHONY).desk)
    kernel.socketio.start_background_task(link.run_forever)
    log.info(
        "AMI link to %s:%s as %s kept by this web process",
        settings.ami_host,
        settings.ami_port,
        settings.ami_username,
    )
    return link
