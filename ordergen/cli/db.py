"""`ordergen db`: create the collections' indexes, and check the database is usable.

An unreachable server fails in `open_database` within DATABASE_TIMEOUT_SECONDS with
one line (password redacted) and exit code 4.
"""

import typer

from ordergen.cli.app import app
from ordergen.cli.output import fields_table, print_json, print_tables, table
from ordergen.cli.render import stderr
from ordergen.settings import load_settings, redact_url

db_app = typer.Typer(
    name="db", help="MongoDB: create the indexes, check connectivity.", no_args_is_help=True
)
app.add_typer(db_app, name="db")


@db_app.command("init")
def init(
    as_json: bool = typer.Option(False, "--json", help="Print the index names as JSON."),
) -> None:
    """Create every index the commands' queries use (idempotent: safe to run again)."""
    # Imported here, as in `check`: only these commands load pymongo (start-up time).
    from ordergen.store.connection import init_indexes, open_database

    with open_database(load_settings()) as db:
        created = init_indexes(db)
    if as_json:
        print_json({"database": db.name, "indexes": created})
        return
    rows = [(collection, ", ".join(names)) for collection, names in created.items()]
    print_tables(table(f"indexes in database {db.name}", ("collection", "indexes"), rows))


@db_app.command("check")
def check_database(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Report connectivity, server version, database, documents and missing indexes.

    Missing indexes are reported, not an error: `ordergen db init` creates them.
    """
    from ordergen.store.connection import check, open_database

    settings = load_settings()
    with open_database(settings) as db:
        report = {"url": redact_url(settings.database_url), **check(db)}
    if as_json:
        print_json(report)
        return
    server = fields_table(
        "MongoDB",
        [
            ("url", report["url"]),
            ("server version", report["server"]["version"]),
            ("database", report["database"]),
            ("indexes complete", "yes" if report["indexesOk"] else "no"),
        ],
    )
    rows = [
        (
            name,
            "yes" if entry["exists"] else "no",
            entry["documents"],
            ", ".join(entry["indexes"]),
            ", ".join(entry["missingIndexes"]),
        )
        for name, entry in report["collections"].items()
    ]
    columns = ("collection", "exists", "documents", "indexes", "missing indexes")
    print_tables(server, table("collections", columns, rows))
    if not report["indexesOk"]:
        stderr.print("some indexes are missing: run `ordergen db init`", highlight=False)
