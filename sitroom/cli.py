"""The `sitroom` console script: `sitroom <verb> ...` runs the matching command."""

import os
import sys

# Verbs as users type them -> Django command names.
ALIASES = {"import-areas": "import_areas", "rebuild-incident-cells": "rebuild_incident_cells",
           "import-incidents": "import_incidents", "export-incidents": "export_incidents"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitroom.settings")
    if len(argv) > 1:
        argv[1] = ALIASES.get(argv[1], argv[1])
    argv[0] = "sitroom"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
