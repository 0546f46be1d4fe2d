"""`ordergen models`: investment models in MongoDB (create, read, change, import, export).

Every input is validated before the database is opened, and every change goes through
`ModelRepository`, which validates the whole resulting model (the same rules as for
files) before writing it. A change names the version it read: a stale one is refused
with exit code 5 and a message naming the version that won.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from ordergen.cli.app import app
from ordergen.cli.output import (
    fields_table,
    json_text,
    print_json,
    print_tables,
    say,
    table,
    yaml_text,
)
from ordergen.cli.render import stderr
from ordergen.domain.approval import RULES, parse_approval_rule
from ordergen.domain.model import InvestmentModel, model_content, model_to_document, validate_model
from ordergen.domain.values import parse_decimal, parse_globeco_id
from ordergen.errors import InputError
from ordergen.io.files import read_model
from ordergen.io.orders_json import atomic_text_file
from ordergen.settings import load_settings

if TYPE_CHECKING:
    from ordergen.store.connection import Db
    from ordergen.store.models import ModelRepository

models_app = typer.Typer(
    name="models", help="Investment models stored in MongoDB.", no_args_is_help=True
)
positions_app = typer.Typer(
    help="Add, change or remove one security of a model.", no_args_is_help=True
)
portfolios_app = typer.Typer(help="Add or remove portfolios of a model.", no_args_is_help=True)
models_app.add_typer(positions_app, name="positions")
models_app.add_typer(portfolios_app, name="portfolios")
app.add_typer(models_app, name="models")

POSITION_KEYS = ("securityId", "target", "lowDrift", "highDrift")
POSITION_FLAG = "SECURITY_ID:TARGET[:LOW[:HIGH]]"
YAML_SUFFIXES = (".yaml", ".yml")


class ShowFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


class ExportFormat(StrEnum):
    JSON = "json"
    YAML = "yaml"


VERSION_HELP = "The version you read (see `models show`); a stale one is refused (exit 5)."

_Repository = TypeVar("_Repository")


def _version_option(help_text: str = VERSION_HELP, *, required: bool = True) -> Any:
    return typer.Option(... if required else None, "--version", min=1, help=help_text)


def _json_option(what: str = "model") -> Any:
    return typer.Option(False, "--json", help=f"Print the resulting {what} as JSON on stdout.")


@contextmanager
def _open_repository(make: Callable[["Db"], _Repository]) -> Iterator[_Repository]:
    """`make(db)` on the configured database, closed when the block ends."""
    # Imported here, as the repositories: only the database commands load pymongo
    # (start-up time).
    from ordergen.store.connection import open_database

    with open_database(load_settings()) as db:
        yield make(db)


def _repository() -> "AbstractContextManager[ModelRepository]":
    """The model repository on the configured database, closed when the block ends."""
    from ordergen.store.models import ModelRepository

    return _open_repository(ModelRepository)


def model_document(model: InvestmentModel) -> dict[str, Any]:
    """What `show --format json` prints: the stored id, then the camelCase document."""
    return {"id": model.model_id, **model_to_document(model)}


def _changed(model: InvestmentModel, verb: str, as_json: bool) -> None:
    """Report a write: the model as JSON, or one line with the version to name next time."""
    if as_json:
        print_json(model_document(model))
    else:
        say(f"model {model.name!r} {verb}: now version {model.version} (id {model.model_id})")


def _position_flag(text: str) -> dict[str, str]:
    """`SECURITY_ID:TARGET[:LOW[:HIGH]]` as a camelCase position (validated with the model)."""
    parts = text.split(":")
    if not 2 <= len(parts) <= len(POSITION_KEYS):
        raise InputError("--position", text, f"expected {POSITION_FLAG}")
    return dict(zip(POSITION_KEYS, parts, strict=False))


def _model_from_flags(
    name: str | None, positions: Sequence[str], portfolios: Sequence[str], approval: str | None
) -> InvestmentModel:
    if name is None:
        raise InputError("--name", None, "is required unless --file is given")
    document: dict[str, Any] = {
        "name": name,
        "positions": [_position_flag(text) for text in positions],
        "portfolios": list(portfolios),
    }
    if approval is not None:
        document["approval"] = parse_approval_rule(approval, "--approval").value
    return validate_model(document)


def _optional_decimal(value: str | None, option: str) -> Decimal | None:
    return None if value is None else parse_decimal(value, option)


@models_app.command("create")
def create(
    file: Path | None = typer.Option(
        None, "--file", help="Model JSON or YAML (camelCase), as for `rebalance --model-file`."
    ),
    name: str | None = typer.Option(None, "--name", help="Model name (without --file)."),
    position: list[str] = typer.Option(
        [], "--position", help=f"A position {POSITION_FLAG}; repeat for each security."
    ),
    portfolio: list[str] = typer.Option([], "--portfolio", help="A portfolio id; repeatable."),
    approval: str | None = typer.Option(
        None, "--approval", help=f"Approval rule before orders are sent ({RULES}; default none)."
    ),
    as_json: bool = _json_option(),
) -> None:
    """Create a model (at version 1) from a file or from flags; names are unique."""
    if file is not None:
        if name is not None or position or portfolio or approval is not None:
            raise InputError(
                "--file",
                str(file),
                "give either --file or --name/--position/--portfolio/--approval",
            )
        model = read_model(file)
    else:
        model = _model_from_flags(name, position, portfolio, approval)
    with _repository() as models:
        created = models.create(model)
    _changed(created, "created", as_json)


@models_app.command("list")
def list_models(
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON on stdout."),
) -> None:
    """List every model by name: version, positions, portfolios, last rebalance."""
    with _repository() as models:
        found = models.list()
    rows = [
        {
            "id": model.model_id,
            "name": model.name,
            "version": model.version,
            "positions": len(model.positions),
            "targetSum": sum((p.target for p in model.positions), Decimal(0)),
            "portfolios": len(model.portfolios),
            "lastRebalanceDate": model.last_rebalance_date,
        }
        for model in found
    ]
    if as_json:
        print_json(rows)
        return
    columns = ("name", "id", "version", "positions", "target sum", "portfolios", "last rebalance")
    keys = ("name", "id", "version", "positions", "targetSum", "portfolios", "lastRebalanceDate")
    print_tables(table(f"{len(rows)} model(s)", columns, [[row[k] for k in keys] for row in rows]))


@models_app.command("show")
def show(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    output_format: ShowFormat = typer.Option(ShowFormat.TABLE, "--format", help="Output format."),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
) -> None:
    """Show one model: id, version, positions with their bands, portfolios, policy."""
    with _repository() as models:
        model = models.get(name_or_id)
    if as_json or output_format is ShowFormat.JSON:
        print_json(model_document(model))
    elif output_format is ShowFormat.YAML:
        typer.echo(yaml_text(model_document(model)), nl=False)
    else:
        print_tables(*_model_tables(model))


def _model_tables(model: InvestmentModel) -> tuple[Any, ...]:
    targets = sum((p.target for p in model.positions), Decimal(0))
    header = fields_table(
        f"model {model.name}",
        [
            ("id", model.model_id),
            ("version", model.version),
            ("last rebalance", model.last_rebalance_date),
            ("positions", len(model.positions)),
            ("target sum", targets),
            ("portfolios", len(model.portfolios)),
            ("approval", model.approval.value),
        ],
    )
    positions = table(
        "positions",
        ("security", "target", "low drift", "high drift"),
        [(p.security_id, p.target, p.low_drift, p.high_drift) for p in model.positions],
    )
    portfolios = table("portfolios", ("portfolio",), [(pid,) for pid in model.portfolios])
    if model.policy.is_default:
        return header, positions, portfolios
    policy = table("policy", ("field", "value"), policy_rows(model.policy.document()))
    return header, positions, portfolios, policy


def policy_rows(document: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """A policy document as (field, value) rows, objects as `cashReserve.amount` and so on."""
    rows: list[tuple[str, Any]] = []
    for name, value in document.items():
        if isinstance(value, Mapping):
            rows.extend((f"{name}.{key}", item) for key, item in value.items())
        else:
            rows.append((name, value))
    return rows


@models_app.command("update")
def update(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    file: Path = typer.Option(..., "--file", help="The model's new content (JSON or YAML)."),
    version: int = _version_option(),
    as_json: bool = _json_option(),
) -> None:
    """Replace a model's name, positions, portfolios and policy with the file's."""
    model = read_model(file)
    with _repository() as models:
        updated = models.replace(name_or_id, model, version)
    _changed(updated, "updated", as_json)


@models_app.command("delete")
def delete(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    version: int | None = typer.Option(
        None, "--version", min=1, help="Delete only if still at this version (else exit 5)."
    ),
) -> None:
    """Delete a model."""
    with _repository() as models:
        models.delete(name_or_id, version)
    say(f"model {name_or_id!r} deleted")


@models_app.command("import")
def import_models(
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="Model files (JSON/YAML)."),
    as_json: bool = typer.Option(False, "--json", help="Print what was done as JSON."),
) -> None:
    """Upsert models by name (models kept as code); unchanged ones keep their version.

    Every file is validated before anything is written: one bad file writes nothing.
    """
    models_read = [read_model(path) for path in files]
    with _repository() as models:
        report = models.import_models(models_read)
    outcome = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    if as_json:
        print_json(outcome)
        return
    rows = [(name, action) for action, names in outcome.items() for name in names]
    counts = ", ".join(f"{len(names)} {action}" for action, names in outcome.items())
    print_tables(table(None, ("model", "action"), rows))
    say(f"imported {len(files)} file(s): {counts}")


@models_app.command("export")
def export(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    output_format: ExportFormat | None = typer.Option(
        None, "--format", help="json or yaml (default: from --output's suffix, else json)."
    ),
    output: Path | None = typer.Option(None, "--output", help="File to write (default stdout)."),
) -> None:
    """Print or write a model as a file that `models create --file` reads back."""
    chosen = _export_format(output_format, output)
    with _repository() as models:
        model = models.get(name_or_id)
    # Only what a user edits: leaving out version and lastRebalanceDate keeps an
    # exported file stable in Git across rebalances and unrelated edits.
    document = model_content(model)
    content = yaml_text(document) if chosen is ExportFormat.YAML else json_text(document)
    if output is None:
        typer.echo(content, nl=False)
        return
    with atomic_text_file(output) as stream:
        stream.write(content)
    stderr.print(f"model {model.name!r} (version {model.version}) written to {output}")


def _export_format(given: ExportFormat | None, output: Path | None) -> ExportFormat:
    """The format, refusing YAML in a file the readers would parse as JSON."""
    is_yaml_file = output is not None and output.suffix.lower() in YAML_SUFFIXES
    if given is None:
        return ExportFormat.YAML if is_yaml_file else ExportFormat.JSON
    # The readers choose the parser by suffix: YAML in a .json file would not read back.
    if given is ExportFormat.YAML and output is not None and not is_yaml_file:
        raise InputError("--output", str(output), "YAML needs a .yaml or .yml file name")
    return given


@positions_app.command("add")
def add_position(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    security: str = typer.Option(..., "--security", help="Security id to add."),
    target: str = typer.Option(..., "--target", help="Target weight, a multiple of 0.005."),
    low_drift: str = typer.Option("0", "--low-drift", help="Low drift, fraction of MV."),
    high_drift: str = typer.Option("0", "--high-drift", help="High drift, fraction of MV."),
    version: int = _version_option(),
    as_json: bool = _json_option(),
) -> None:
    """Add a security to a model."""
    security_id = parse_globeco_id(security, "--security")
    new_target = parse_decimal(target, "--target")
    new_low = parse_decimal(low_drift, "--low-drift")
    new_high = parse_decimal(high_drift, "--high-drift")
    with _repository() as models:
        changed = models.add_position(
            name_or_id,
            security_id=security_id,
            target=new_target,
            low_drift=new_low,
            high_drift=new_high,
            expected_version=version,
        )
    _changed(changed, "updated", as_json)


@positions_app.command("update")
def update_position(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    security: str = typer.Option(..., "--security", help="Security id to change."),
    target: str | None = typer.Option(None, "--target", help="New target (0 removes it)."),
    low_drift: str | None = typer.Option(None, "--low-drift", help="New low drift."),
    high_drift: str | None = typer.Option(None, "--high-drift", help="New high drift."),
    version: int = _version_option(),
    as_json: bool = _json_option(),
) -> None:
    """Change a security's target and/or drifts; the others stay as they are."""
    security_id = parse_globeco_id(security, "--security")
    new_target = _optional_decimal(target, "--target")
    new_low = _optional_decimal(low_drift, "--low-drift")
    new_high = _optional_decimal(high_drift, "--high-drift")
    with _repository() as models:
        changed = models.update_position(
            name_or_id,
            security_id=security_id,
            target=new_target,
            low_drift=new_low,
            high_drift=new_high,
            expected_version=version,
        )
    _changed(changed, "updated", as_json)


@positions_app.command("remove")
def remove_position(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    security: str = typer.Option(..., "--security", help="Security id to remove."),
    version: int = _version_option(),
    as_json: bool = _json_option(),
) -> None:
    """Remove a security from a model."""
    security_id = parse_globeco_id(security, "--security")
    with _repository() as models:
        changed = models.remove_position(
            name_or_id, security_id=security_id, expected_version=version
        )
    _changed(changed, "updated", as_json)


@models_app.command("approval")
def set_approval(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    rule: str = typer.Argument(..., metavar="RULE", help=f"One of {RULES}."),
    version: int = _version_option(),
    as_json: bool = _json_option(),
) -> None:
    """Set who must approve a model's runs before their orders are sent."""
    chosen = parse_approval_rule(rule, "RULE")
    with _repository() as models:
        changed = models.set_approval(name_or_id, chosen, expected_version=version)
    _changed(changed, "updated", as_json)


def _portfolio_ids(values: Sequence[str]) -> list[str]:
    return [parse_globeco_id(value, "portfolio") for value in values]


@portfolios_app.command("add")
def add_portfolios(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    portfolio_ids: list[str] = typer.Argument(..., metavar="ID...", help="Portfolio ids."),
    version: int = _version_option(),
    as_json: bool = _json_option(),
) -> None:
    """Add portfolios to a model (one already there is refused)."""
    ids = _portfolio_ids(portfolio_ids)
    with _repository() as models:
        changed = models.add_portfolios(name_or_id, ids, expected_version=version)
    _changed(changed, "updated", as_json)


@portfolios_app.command("remove")
def remove_portfolios(
    name_or_id: str = typer.Argument(..., metavar="NAME|ID", help="Model name or id."),
    portfolio_ids: list[str] = typer.Argument(..., metavar="ID...", help="Portfolio ids."),
    version: int = _version_option(),
    as_json: bool = _json_option(),
) -> None:
    """Remove portfolios from a model (one not in it is refused)."""
    ids = _portfolio_ids(portfolio_ids)
    with _repository() as models:
        changed = models.remove_portfolios(name_or_id, ids, expected_version=version)
    _changed(changed, "updated", as_json)
