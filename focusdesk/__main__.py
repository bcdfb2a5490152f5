"""``python -m focusdesk`` runs the same entry point as the ``focusdesk`` command."""

from focusdesk.cli import main

raise SystemExit(main())
