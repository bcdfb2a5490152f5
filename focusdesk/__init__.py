"""FocusDesk: a local-first app that decides what deserves your attention."""

__version__ = "0.1.0"
