"""Developer commands for the schema.

    python -m storage upgrade                 migrate DATABASE_URL (default data/stammgast.db)
    python -m storage revision "add tickets"  autogenerate a migration from the models
"""

from __future__ import annotations

import sys

from alembic import command

from storage.db import Store, _alembic_config
from storage.settings import StorageSettings


def main(argv: list[str]) -> int:
    store = Store(StorageSettings().database_url)
    if argv[:1] == ["upgrade"]:
        store.migrate()
    elif argv[:1] == ["revision"] and len(argv) == 2:
        store.migrate()
        command.revision(_alembic_config(store.engine), message=argv[1], autogenerate=True)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
