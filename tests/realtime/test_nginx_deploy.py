"""The deployment files, run (issue 16, item 7): Debian's nginx with deploy/nginx/frontoffice.conf —
only its upstream addresses, listen ports, certificate and paths replaced — in front of two
``frontoffice run`` processes sharing PostgreSQL and a Redis message queue. A Socket.IO client
connected through nginx (TLS, websocket upgrade) to ``/monitor`` hears an order placed through the
other process; nginx routes one client to one process, serves /static/ from disk, passes
/api/osmand and its request id through, and redirects plain HTTP to HTTPS."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import socketio

import frontoffice
from frontoffice.app import create_app
from frontoffice.migrate import upgrade
from tests.conftest import Actor, load_demo_catalogue, make_users
from tests.realtime.test_two_processes import postgres_database  # noqa: F401 - a fixture
from tests.server_processes import (
    HOST,
    ServerProcess,
    clean_env,
    free_port,
    place_order,
    staff_token,
    stop_all,
)

POSTGRES_URL = os.environ.get("FRONTOFFICE_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("FRONTOFFICE_TEST_REDIS_URL")
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if os.access(p, os.X_OK)), None
)
SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "frontoffice.conf"
STATIC = Path(frontoffice.__file__).resolve().parent / "static"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NGINX is None, reason="needs Debian's nginx (apt-get install nginx)"),
    pytest.mark.skipif(not POSTGRES_URL, reason="needs FRONTOFFICE_TEST_POSTGRES_URL (PostgreSQL)"),
    pytest.mark.skipif(not REDIS_URL, reason="needs FRONTOFFICE_TEST_REDIS_URL (Redis as the message queue)"),
    # the test's certificate is its own, self-signed
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]


def replace(text: str, pattern: str, new: str, count: int) -> str:
    """``text`` with ``pattern`` (a regular expression) replaced; it must occur ``count`` times, so
    a change of the site file that the test no longer fits fails here, loudly."""
    found = len(re.findall(pattern, text, flags=re.M))
    assert found == count, f"{pattern!r} occurs {found} times in {SITE.name}, expected {count}"
    return re.sub(pattern, new, text, flags=re.M)


def site_for_test(upstreams: list[int], http_port: int, https_port: int, folder: Path) -> str:
    """deploy/nginx/frontoffice.conf with this test's addresses, ports, certificate and paths."""
    site = SITE.read_text()
    site = replace(site, r"^(\s*)server 127\.0\.0\.1:8001 ", rf"\g<1>server {HOST}:{upstreams[0]} ", 1)
    site = replace(site, r"^(\s*)server 127\.0\.0\.1:8002 ", rf"\g<1>server {HOST}:{upstreams[1]} ", 1)
    site = replace(site, r"^(\s*)listen 80;", rf"\g<1>listen {HOST}:{http_port};", 1)
    site = replace(site, r"^(\s*)listen 443 ssl http2;", rf"\g<1>listen {HOST}:{https_port} ssl http2;", 1)
    site = replace(site, r"ssl_certificate\s+\S+;", f"ssl_certificate {folder / 'cert.pem'};", 1)
    site = replace(site, r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {folder / 'key.pem'};", 1)
    site = replace(site, r"alias /opt/frontoffice/static/;", f"alias {STATIC}/;", 1)
    return replace(site, r"/var/log/nginx/", f"{folder}/", 2)


MAIN_CONF = """
{user}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
"""


def wait_listening(port: int, proc: subprocess.Popen, log: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nginx did not listen on {port}:\n{log.read_text(errors='replace')}")


@dataclass
class Deployment:
    """nginx (HTTPS on ``url``, plain HTTP on ``http_url``) in front of processes ``a`` and ``b``."""

    url: str
    http_url: str
    a: ServerProcess
    b: ServerProcess
    staff: dict[str, Actor]

    def served_by(self, request_id: str) -> ServerProcess:
        """The process whose access log holds the request ``request_id``."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            found = [s for s in (self.a, self.b) if request_id in s.output()]
            if found:
                assert len(found) == 1
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no process logged the request {request_id}")

    def other_than(self, server: ServerProcess) -> ServerProcess:
        return self.b if server is self.a else self.a


@pytest.fixture(scope="module")
def deployment(postgres_database, tmp_path_factory) -> Iterator[Deployment]:  # noqa: F811
    """The demo catalogue and staff in a database of its own, two processes on it, nginx in front."""
    folder = tmp_path_factory.mktemp("nginx-deploy")
    upgrade(postgres_database)
    setup = create_app({"database_url": postgres_database, "instance_path": folder / "setup"})
    load_demo_catalogue(setup)
    staff = make_users(setup)
    setup.extensions["frontoffice"].db.dispose()
    env = clean_env(
        database_url=postgres_database,
        redis_url=REDIS_URL or "",
        socketio_channel=f"frontoffice-test-{uuid.uuid4().hex}",
        secret_key="nginx-deploy-test",
        instance_path=str(folder / "instance"),
        trusted_proxies="1",
        log_format="json",
    )
    servers: list[ServerProcess] = []
    nginx: subprocess.Popen | None = None
    try:
        for name in ("a", "b"):
            port = free_port()
            servers.append(ServerProcess(["run", "--port", str(port)], port, env, folder, name=name))
        for server in servers:
            server.wait_ready()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}"]
            + ["-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
            check=True,
            capture_output=True,
        )
        http_port, https_port = free_port(), free_port()
        (folder / "site.conf").write_text(
            site_for_test([s.port for s in servers], http_port, https_port, folder)
        )
        user = "user root;" if os.geteuid() == 0 else ""  # workers of a root master would be nobody
        (folder / "nginx.conf").write_text(MAIN_CONF.format(user=user, folder=folder))
        command = [str(NGINX), "-p", str(folder), "-c", str(folder / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        log = folder / "nginx.out"
        nginx = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        wait_listening(https_port, nginx, log)
        yield Deployment(
            f"https://{HOST}:{https_port}", f"http://{HOST}:{http_port}", servers[0], servers[1], staff
        )
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        stop_all(servers)


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, verify=False, timeout=10, **kwargs)


def test_a_socket_client_through_nginx_hears_an_order_placed_through_the_other_process(deployment):
    # ip_hash: this client's requests all reach one process; find which one by nginx's request id
    routed = get(f"{deployment.url}/healthz")
    assert routed.status_code == 200
    near = deployment.served_by(routed.headers["X-Request-ID"])
    far = deployment.other_than(near)
    manager = staff_token(far.url, "test-manager", "pw-manager")

    heard: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False, ssl_verify=False)
    client.on("order_placed", heard.put, namespace="/monitor")
    client.connect(
        deployment.url,
        namespaces=["/monitor"],
        transports=["websocket"],
        auth={"token": manager},
        wait_timeout=10,
    )
    try:
        assert client.transport() == "websocket"  # the upgrade went through nginx
        order = place_order(far.url, deployment.staff["operator"].token)
        event = heard.get(timeout=15)
    finally:
        client.disconnect()
    assert event["order_id"] == order["id"] and event["number"] == order["number"]


def test_one_client_is_routed_to_one_process(deployment):
    ids = [get(f"{deployment.url}/healthz").headers["X-Request-ID"] for _ in range(6)]
    assert len({deployment.served_by(rid).port for rid in ids}) == 1


def test_the_request_id_of_nginx_reaches_the_app_its_logs_and_problem_answers(deployment):
    resp = get(f"{deployment.url}/api/osmand?id=unknown-phone&lat=55.75&lon=37.61&timestamp=1700000000")
    assert resp.status_code == 400 and resp.headers["Content-Type"] == "application/problem+json"
    rid = resp.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid) and resp.json()["request_id"] == rid
    listed = get(f"{deployment.url}/api/v1/orders")
    assert listed.status_code == 401
    served = deployment.served_by(listed.headers["X-Request-ID"])
    line = next(
        json.loads(text)
        for text in served.output().splitlines()
        if listed.headers["X-Request-ID"] in text and text.startswith("{") and '"gunicorn.access"' in text
    )
    assert line["path"] == "/api/v1/orders" and line["status"] == 401 and line["remote"] == HOST


def test_static_files_come_from_disk_not_from_the_processes(deployment):
    resp = get(f"{deployment.url}/static/js/shared.js")
    assert resp.status_code == 200
    assert resp.content == (STATIC / "js" / "shared.js").read_bytes()
    assert "Cache-Control" in resp.headers and "X-Request-ID" not in resp.headers
    assert all("/static/js/shared.js" not in s.output() for s in (deployment.a, deployment.b))


def test_plain_http_is_sent_to_https(deployment):
    resp = requests.get(f"{deployment.http_url}/login", allow_redirects=False, timeout=10)
    assert resp.status_code == 301 and resp.headers["Location"].startswith("https://")
