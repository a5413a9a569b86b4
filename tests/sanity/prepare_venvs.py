#!/usr/bin/python3
"""Make ansible-test's sanity virtual environments from Debian's packages.

ansible-test keeps one virtual environment per sanity test under
~/.ansible/test/venv/<label>/<python>/<hash>/ and fills it from PyPI with
pinned requirements. This machine has no PyPI, so this script creates each
environment the way ansible-test would find a finished one: a venv made with
--system-site-packages (the Debian packages provide the Python modules), the
meta.install.json and meta.yaml.json files, and marker.txt. The path and
the file contents are computed with ansible-test's own functions, so they match
what `ansible-test sanity` looks for.

Run it with the collection root as the working directory (ansible-test reads
its layout from there), with Debian's /usr/bin/python3:

    prepare_venvs.py TEST [TEST...]

For each test it checks that the modules the test imports are importable, and
exits non-zero naming the missing one otherwise.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from ansible_test._internal.commands.sanity import hash_pip_commands, sanity_get_tests
from ansible_test._internal.host_configs import NativePythonConfig
from ansible_test._internal.python_requirements import collect_requirements

# The Python modules each sanity test imports inside its venv, checked after
# the venv is made so a missing Debian package is named up front.
IMPORTS = {
    "ansible-doc": ["yaml", "jinja2", "packaging"],
    "changelog": ["yaml", "antsibull_changelog"],
    "pep8": ["pycodestyle"],
    "pylint": ["pylint", "yaml"],
    "runtime-metadata": ["yaml", "voluptuous"],
    "validate-modules": ["yaml", "jinja2", "voluptuous"],
    "yamllint": ["yaml", "yamllint"],
}


def venv_for(python: NativePythonConfig, name: str) -> tuple[str, list]:
    """Return the venv path ansible-test uses for a sanity test, and its pip commands."""
    commands = collect_requirements(
        python=python, controller=True, virtualenv=False, command=None, ansible=False,
        cryptography=False, coverage=False, minimize=False, sanity=name,
    )
    label = f"sanity.{name}" if commands else "sanity"
    root = os.path.expanduser("~/.ansible/test/venv")
    return os.path.join(root, label, python.version, hash_pip_commands(commands)), commands


def libyaml(venv_python: str) -> bool:
    """What ansible-test's yamlcheck records: does PyYAML have the C loader."""
    out = subprocess.run(
        [venv_python, "-c", "import yaml; print(hasattr(yaml, 'CSafeLoader'))"],
        capture_output=True, text=True, check=False,
    )
    return out.stdout.strip() == "True"


def prepare(python: NativePythonConfig, name: str) -> str:
    path, commands = venv_for(python, name)
    venv_python = os.path.join(path, "bin", "python")
    if not os.path.exists(os.path.join(path, "marker.txt")):
        subprocess.run([python.path, "-m", "venv", "--system-site-packages", "--without-pip", "--clear", path], check=True)
        pathlib.Path(path, "meta.install.json").write_text(
            json.dumps([c.serialize() for c in commands], indent=4), encoding="utf-8")
        has_yaml = any(getattr(c, "has_package", lambda _: False)("pyyaml") for c in commands)
        pathlib.Path(path, "meta.yaml.json").write_text(
            json.dumps(libyaml(venv_python) if has_yaml else None), encoding="utf-8")
        pathlib.Path(path, "marker.txt").touch()
    for module in IMPORTS.get(name, []):
        probe = subprocess.run([venv_python, "-c", f"import {module}"], capture_output=True, text=True, check=False)
        if probe.returncode != 0:
            sys.exit(f"sanity test {name}: python module '{module}' is not importable in {path} "
                     f"(install its Debian package): {probe.stderr.strip().splitlines()[-1:]}")
    return path


def main() -> None:
    names = sys.argv[1:]
    known = {t.name for t in sanity_get_tests()}
    unknown = sorted(set(names) - known)
    if unknown:
        sys.exit(f"unknown sanity tests: {', '.join(unknown)}")
    version = "%d.%d" % sys.version_info[:2]
    python = NativePythonConfig(version=version, path=sys.executable)
    for name in names:
        print(f"venv for {name}: {prepare(python, name)}")


if __name__ == "__main__":
    main()
