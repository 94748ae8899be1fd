"""What the benchmarks share: free ports, the ``frontoffice`` command, percentiles, server processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def frontoffice_command() -> list[str]:
    """The ``frontoffice`` console script of this interpreter (or ``python -m frontoffice``): both
    patch the standard library for gevent before anything is imported when they serve on it."""
    script = Path(sys.executable).with_name("frontoffice")
    return [str(script)] if script.exists() else [sys.executable, "-m", "frontoffice"]


def fill_demo(workdir: Path) -> dict[str, str]:
    """Fill ``workdir/instance`` with ``frontoffice demo --no-serve`` (SQLite, demo data); the
    environment (without the caller's ``FRONTOFFICE_*``) that points the product at it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTOFFICE_")}
    env.update(FRONTOFFICE_INSTANCE_PATH=str(workdir / "instance"), FRONTOFFICE_SECRET_KEY="bench")
    done = subprocess.run(
        [*frontoffice_command(), "demo", "--no-serve"],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"frontoffice demo --no-serve failed:\n{done.stdout}")
    return env


#: gunicorn worker classes a benchmark can serve ours and its baseline on (the same one for both).
WORKERS = ("gevent", "gthread")


def patch_if_serving_on_gevent(argv: list[str]) -> None:
    """In a baseline server's process: patch the standard library for gevent first, as
    ``frontoffice run`` does, when it serves with ``--worker gevent``; call before importing Flask."""
    if "--worker" in argv and argv[argv.index("--worker") + 1] == "gevent":
        from gevent import monkey

        monkey.patch_all()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


class ServerProcess:
    """A server process on a free port (``{port}`` in ``argv`` is filled in), logging to a file,
    stopped with SIGTERM."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, port: int | None = None):
        self.name = name
        self.port = port if port is not None else free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = Path(cwd) / f"{name}.log"
        self._log = self.log_path.open("wb")
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> None:
        """Block until ``/healthz`` answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not come up in {timeout} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by the server and its gunicorn worker (Linux /proc), or None."""
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        pids = [self.proc.pid]
        try:
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                pids += [int(p) for p in (task / "children").read_text().split()]
            total = 0
            for pid in pids:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError):
            return None
        return total / ticks

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's output."""
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
