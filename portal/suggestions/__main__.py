"""``python -m portal.suggestions [DIRECTORY]``: check every rule file, print every error."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from portal.suggestions import RULES_DIR, load_rules


def main() -> int:
    from portal.app import create_app

    # A developer's check of rule files, so it runs on the embedded defaults unless told.
    with create_app({"PORTAL_ENV": os.environ.get("PORTAL_ENV", "development")}).app_context():
        rules, errors = load_rules(Path(sys.argv[1]) if len(sys.argv) > 1 else RULES_DIR)
    for error in errors:
        print(error)
    print(f"{len(rules)} rules valid, {len(errors)} errors")
    return 1 if errors else 0


sys.exit(main())
