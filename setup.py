"""Package list for setuptools (the rest of the configuration is in pyproject.toml).

pyproject.toml cannot both discover the code packages and add the mapped data folders,
so the list is made here: every ``focusdesk*`` package plus ``focusdesk.migrations`` and
``focusdesk.resources`` (the top-level ``migrations/`` and ``resources/`` folders).
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["focusdesk", "focusdesk.*"]),
        "focusdesk.migrations",
        "focusdesk.resources",
    ]
)
