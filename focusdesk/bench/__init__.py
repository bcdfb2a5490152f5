"""Benchmarks: measured by `focusdesk bench`, recorded with the machine and the command."""
