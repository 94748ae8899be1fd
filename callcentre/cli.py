"""The call centre's command: ``frontoffice addresses import FILE`` fills the offline address directory."""

from __future__ import annotations

import sys

import click


@click.group()
def addresses() -> None:
    """The offline address directory (streets and houses with coordinates)."""


@addresses.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_cmd(path: str) -> None:
    """Import an OpenStreetMap extract (.osm, .osm.pbf) or a CSV (street,house,lat,lon[,city]).

    The whole file goes in one transaction: on any error nothing is imported.
    """
    from callcentre import services
    from callcentre.address_sources import AddressFileError, read_file
    from frontoffice.app import create_app
    from frontoffice.kernel import kernel_of
    from frontoffice.migrate import upgrade

    app = create_app({"background_services": False})  # a command: no AMI listener of its own
    kernel = kernel_of(app)
    upgrade(kernel.settings.database_url)
    click.echo(f"Reading {path} …")
    with click.progressbar(length=0, label="Reading objects", show_pos=True) as bar:

        def read_progress(n: int) -> None:
            bar.length = max(n, bar.length or 0)
            bar.update(n - bar.pos)

        try:
            rows = read_file(path, progress=read_progress)
        except AddressFileError as exc:
            click.echo(f"error: {exc.message}", err=True)
            for line in exc.errors:
                click.echo(f"  {line}", err=True)
            sys.exit(1)
    with click.progressbar(length=len(rows), label="Importing houses", show_pos=True) as bar:
        with kernel.db.unit_of_work() as s:
            done = services.import_directory(s, rows, progress=lambda n: bar.update(n - bar.pos))
    with kernel.db.reading() as s:
        stats = services.directory_stats(s)
    click.echo(
        f"Imported {done.rows} row(s): {done.streets_added} new street(s), {done.houses_added} new house(s), "
        f"{done.houses_updated} updated. The directory has {stats.streets} streets and {stats.houses} houses."
    )
