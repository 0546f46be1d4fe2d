"""Connecting to MongoDB, creating and checking indexes, and the one place pymongo
errors become `DatabaseError`.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import InvalidURI, PyMongoError

from ordergen.errors import ConfigurationError, DatabaseError
from ordergen.settings import Settings, redact_url
from ordergen.store.schema import INDEXES

Document = dict[str, Any]
Db = Database[Document]


def _reason(exc: PyMongoError, url: str = "") -> str:
    """The first, human part of a pymongo error, without any password in `url`.

    pymongo appends the whole topology description or server reply; one line is
    enough to act on, and the traceback keeps the rest for debugging.
    """
    text = str(exc).strip().split("\n", 1)[0] or type(exc).__name__
    for marker in (" (configured timeouts", ", Timeout:", ", full error:"):
        text = text.split(marker, 1)[0]
    try:
        password = urlsplit(url).password
    except ValueError:  # unparsable URL: pymongo will not have echoed a password either
        password = None
    for secret in {password, unquote(password or "")} - {None, ""}:
        text = text.replace(str(secret), "***")
    return text


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn any pymongo error inside the block (or decorated function) into `DatabaseError`."""
    try:
        yield
    except PyMongoError as exc:
        raise DatabaseError(f"MongoDB operation failed: {_reason(exc)}") from exc


def connect(settings: Settings) -> Db:
    """The configured database, after a ping: an unreachable server fails here.

    Fails within `database_timeout_seconds` with a one-line `DatabaseError` that names
    the URL with its password redacted. The caller closes `db.client` when done.
    """
    url = settings.database_url
    timeout_ms = round(settings.database_timeout_seconds * 1000)
    try:
        client: MongoClient[Document] = MongoClient(
            url,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            tz_aware=True,  # datetimes come back as UTC-aware, as they were written
            appname="ordergen",
        )
    except InvalidURI as exc:
        raise ConfigurationError(f"setting DATABASE_URL: {_reason(exc, url)}") from None
    except PyMongoError as exc:  # for example a mongodb+srv:// name that does not resolve
        raise DatabaseError(
            f"cannot reach MongoDB at {redact_url(url)}: {_reason(exc, url)}"
        ) from None
    try:
        client.admin.command("ping")
    except PyMongoError as exc:
        client.close()
        raise DatabaseError(
            f"cannot reach MongoDB at {redact_url(url)} within "
            f"{settings.database_timeout_seconds:g}s: {_reason(exc, url)}"
        ) from None
    return client[settings.database_name]


def ping(db: Db) -> bool:
    """True when the server answers a ping (the readiness probe's question)."""
    try:
        return bool(db.client.admin.command("ping").get("ok"))
    except PyMongoError:
        return False


@contextmanager
def open_database(settings: Settings) -> Iterator[Db]:
    """`connect`, and close the client when the block ends."""
    db = connect(settings)
    try:
        yield db
    finally:
        db.client.close()


@database_errors()
def init_indexes(db: Db, collections: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Create every index the queries need (idempotent); index names by collection."""
    created: dict[str, list[str]] = {}
    for name in INDEXES if collections is None else collections:
        if INDEXES[name]:
            created[name] = db[name].create_indexes(list(INDEXES[name]))
    return created


@database_errors()
def check(db: Db) -> dict[str, Any]:
    """Server version, database, and per collection its size and missing indexes."""
    existing = set(db.list_collection_names())
    collections: dict[str, Any] = {}
    for name, wanted in INDEXES.items():
        present = {index["name"]: dict(index["key"]) for index in db[name].list_indexes()}
        missing = [
            index.document["name"]
            for index in wanted
            if present.get(index.document["name"]) != dict(index.document["key"])
        ]
        collections[name] = {
            "exists": name in existing,
            "documents": db[name].estimated_document_count() if name in existing else 0,
            "indexes": sorted(present),
            "missingIndexes": missing,
        }
    return {
        "server": {"version": db.client.server_info()["version"]},
        "database": db.name,
        "collections": collections,
        "indexesOk": not any(c["missingIndexes"] for c in collections.values()),
    }
