"""The monitor's command: ``frontoffice simulate`` plays a live day against a running instance, and
``frontoffice demo --simulate`` starts the same player in the background."""

from __future__ import annotations

import sys

import click


def play_in_background(url: str, rate: str) -> None:
    """Start the simulator in a thread of this (gunicorn master) process once the server answers."""
    import threading

    def play() -> None:
        import time

        import requests

        from monitor.simulator import Simulator, SimulatorError, config_from

        for _ in range(240):
            try:
                if requests.get(f"{url}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        try:
            config = config_from(url=url, rate=rate, duration="24h", verbose=False)
            click.echo(f"Simulating a live day on {url} at {rate} (monitor: {url}/monitor)")
            Simulator(config, out=click.echo).run()
        except (SimulatorError, ValueError) as exc:
            click.echo(f"simulator: {exc}", err=True)

    threading.Thread(target=play, name="simulator", daemon=True).start()


@click.command()
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="The running instance.")
@click.option("--rate", default="2/min", show_default=True, help="Orders arriving: 2/min, 30/h, 0.5/s.")
@click.option("--duration", default="10m", show_default=True, help="How long to play: 90s, 10m, 2h.")
@click.option(
    "--time-scale",
    default=10.0,
    type=click.FloatRange(min=1.0),
    show_default=True,
    help="How much faster kitchens, roads and promises run than the clock.",
)
@click.option("--seed", type=int, default=None, help="Repeat the same day.")
@click.option("--manager", default="manager:manager", show_default=True, help="Kitchen and dispatch login.")
@click.option("--operator", default="operator:operator", show_default=True, help="Order-taking login.")
@click.option(
    "--courier",
    "couriers",
    multiple=True,
    default=("courier:courier",),
    show_default=True,
    help="A courier app login (login:password); repeat for more.",
)
@click.option("--quiet", is_flag=True, help="Print only the summary.")
def simulate(
    url: str,
    rate: str,
    duration: str,
    time_scale: float,
    seed: int | None,
    manager: str,
    operator: str,
    couriers: tuple[str, ...],
    quiet: bool,
) -> None:
    """Play a live delivery day on a running instance through its HTTP APIs."""
    from monitor.simulator import Simulator, SimulatorError, config_from

    try:
        config = config_from(
            url=url,
            rate=rate,
            duration=duration,
            time_scale=time_scale,
            seed=seed,
            manager=manager,
            operator=operator,
            couriers=couriers,
            verbose=not quiet,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        report = Simulator(config, out=click.echo).run()
    except SimulatorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if quiet:
        click.echo(report.as_dict())
