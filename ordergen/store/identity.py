"""Who is acting: the name recorded when someone proposes, approves, rejects or sends.

`--by NAME`, else `ORDERGEN_USER`, else the Kubernetes Job (`JOB_NAME`), else the
operating-system user. Where the MongoDB connection is authenticated, the database user
is who acts: a name given otherwise (`--by`, `ORDERGEN_USER`) must be that user's, so
nobody approves under someone else's name.
"""

import getpass

from ordergen.errors import IdentityError
from ordergen.store.connection import Db, database_errors


@database_errors()
def database_user(db: Db) -> str | None:
    """The user the connection authenticated as, or None for an unauthenticated one."""
    status = db.client.admin.command("connectionStatus")
    users = status.get("authInfo", {}).get("authenticatedUsers", [])
    return str(users[0]["user"]) if users else None


def os_user() -> str:
    """The operating-system user's name (`unknown` where there is none, as in a bare pod)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def acting_user(db: Db, by: str | None, configured: str | None, job: str | None = None) -> str:
    """Who acts: the database user if authenticated, else `by`, `configured`, `job`, the
    OS user.

    A `by` or `configured` name that differs from the authenticated database user is
    an `IdentityError`.
    """
    claimed = by if by is not None else configured
    authenticated = database_user(db)
    if authenticated is None:
        return claimed or job or os_user()
    if claimed and claimed != authenticated:
        source = "--by" if by is not None else "ORDERGEN_USER"
        raise IdentityError(
            f"{source} {claimed!r} is not the authenticated database user {authenticated!r}: "
            "under authentication the database user acts"
        )
    return authenticated
