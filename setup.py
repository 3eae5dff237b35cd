"""Maps the repository folders onto the single import name `spc` (see pyproject.toml)."""

from setuptools import find_packages, setup

ROOTS = {"spc": "spc", "spc.shared": "shared", "spc.services": "services"}


def packages():
    found = []
    for name, folder in ROOTS.items():
        found.append(name)
        found += [f"{name}.{sub}" for sub in find_packages(folder) if f"{name}.{sub}" not in ROOTS]
    return found


setup(packages=packages())
