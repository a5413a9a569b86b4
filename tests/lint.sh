#!/usr/bin/env bash
# ansible-lint (Debian 12's package, offline, profile production) on the
# sample playbooks and the molecule scenario, then a check of
# execution-environment.yml.
#
#   make collection && tests/lint.sh [paths...]    (default: playbooks galaxy.yml extensions/molecule, and the EE file)
#
# The playbooks call our modules by FQCN, so the built collection is installed
# into a throwaway collections path first; without it ansible-lint's
# syntax-check cannot resolve metalkit.baremetal.* and fails.
#
# execution-environment.yml: ansible-builder is not packaged in Debian 12 and
# ansible-lint 6.13's schema knows only its version 1 format, so the check
# here is ours: the version 3 layout, that additional_build_files matches the
# built tarball, and the EE's install step (its append_final COPY and
# `ansible-galaxy collection install --offline` of the tarball, then
# ansible-doc) replayed in a scratch folder instead of a container.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Debian's python: a pyenv python3 on PATH cannot import Debian's packages.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8
die() { echo "lint: $*" >&2; exit 1; }

log() { echo "lint: $*"; }
# shellcheck source=lib.sh
. "$repo/tests/lib.sh"
apt_ensure ansible-core ansible-lint
tarball=$(collection_tarball "$repo")

work=$(mktemp -d "${TMPDIR:-/tmp}/metalkit-lint.XXXXXX")
trap 'rm -rf "$work"' EXIT
ansible-galaxy collection install --force -p "$work" "$tarball" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; die "installing $tarball failed"; }

# The path must name the ansible_collections folder itself: ansible-lint 6.13
# (ansible-compat 2.2) sets up Ansible 2.14's collection finder on the
# *parent* of ANSIBLE_COLLECTIONS_PATH, and Ansible accepts either form.
export ANSIBLE_COLLECTIONS_PATH="$work/ansible_collections"

cd "$repo"
check_ee=0
if [ "$#" -eq 0 ]; then
	set -- playbooks galaxy.yml
	[ -d extensions/molecule ] && set -- "$@" extensions/molecule
	[ -f execution-environment.yml ] && check_ee=1
fi
status=0
echo "lint: ansible-lint $(dpkg-query -W -f='${Version}' ansible-lint) on: $*"
ansible-lint --offline --nocolor -c "$repo/.ansible-lint" "$@" || status=1

if [ "$check_ee" = 1 ]; then
	/usr/bin/python3 - "$repo/execution-environment.yml" "$work/ee" <<'PYEOF' || status=1
import glob, os, re, shutil, subprocess, sys
import yaml

path, scratch = sys.argv[1:]
base = os.path.dirname(path)
with open(path, encoding="utf-8") as f:
    ee = yaml.safe_load(f)
problems = []
def need(cond, msg):
    if not cond:
        problems.append(msg)

# ansible-builder 3.x: the seven top-level sections and their known keys.
sections = {"version", "images", "dependencies", "additional_build_files",
            "additional_build_steps", "build_arg_defaults", "options"}
need(isinstance(ee, dict), "not a mapping")
ee = ee if isinstance(ee, dict) else {}
need(ee.get("version") == 3, "version must be 3 (ansible-builder 3.x format)")
need(not set(ee) - sections, f"unknown top-level keys: {sorted(set(ee) - sections)}")
need(bool(((ee.get("images") or {}).get("base_image") or {}).get("name")), "images.base_image.name is required")
deps = ee.get("dependencies") or {}
known = {"python_interpreter", "ansible_core", "ansible_runner", "galaxy", "python", "system", "exclude"}
need(not set(deps) - known, f"unknown dependencies keys: {sorted(set(deps) - known)}")
for key in ("ansible_core", "ansible_runner"):
    if key in deps:
        need(set(deps[key] or {}) <= {"package_pip"}, f"dependencies.{key} takes only package_pip")
# The modules are static binaries: the EE needs no requirements besides
# ansible-core and ansible-runner.
for key in ("galaxy", "python", "system"):
    need(key not in deps, f"dependencies.{key}: the modules need no {key} requirements")
need("ansible-core" in str((deps.get("ansible_core") or {}).get("package_pip", "")), "dependencies.ansible_core.package_pip must install ansible-core")
if "python_interpreter" in deps:
    need(set(deps["python_interpreter"] or {}) <= {"package_system", "python_path"},
         "dependencies.python_interpreter takes package_system and python_path")
steps = ee.get("additional_build_steps") or {}
stages = {f"{w}_{s}" for w in ("prepend", "append") for s in ("base", "galaxy", "builder", "final")}
need(not set(steps) - stages, f"unknown additional_build_steps: {sorted(set(steps) - stages)}")

# additional_build_files: each src (a glob relative to the EE file) must match
# exactly one file now: the tarball `make collection` wrote.
context = os.path.join(scratch, "_build")
for entry in ee.get("additional_build_files") or []:
    need(isinstance(entry, dict) and set(entry) == {"src", "dest"}, f"additional_build_files entry needs src and dest: {entry}")
    if not isinstance(entry, dict):
        continue
    matches = glob.glob(os.path.join(base, entry.get("src", "")))
    need(len(matches) == 1, f"additional_build_files src {entry.get('src')} matches {len(matches)} files (want 1; run make collection)")
    for m in matches:
        os.makedirs(os.path.join(context, entry["dest"]), exist_ok=True)
        shutil.copy(m, os.path.join(context, entry["dest"]))

# Replay the final stage's steps: COPY _build/X/ DIR/, then the RUN line with
# its absolute paths moved under the scratch folder.
final = steps.get("append_final") or []
final = final.strip().splitlines() if isinstance(final, str) else final
copied = {}
for line in final:
    m = re.match(r"COPY\s+_build/(\S+?)/?\s+(\S+)$", line.strip())
    if m and os.path.isdir(os.path.join(context, m.group(1))):
        dst = scratch + m.group(2).rstrip("/")
        shutil.copytree(os.path.join(context, m.group(1)), dst, dirs_exist_ok=True)
        copied[m.group(2).rstrip("/")] = dst
runs = [l.strip()[4:] for l in final if l.strip().startswith("RUN ") and "ansible-galaxy collection install" in l]
need(len(runs) == 1, "append_final needs one RUN ansible-galaxy collection install of the tarball")
binaries = []
if not problems:
    # Through placeholders: the scratch path may itself contain a source path.
    moves = dict(copied, **{"/usr/share/ansible/collections": scratch + "/usr/share/ansible/collections"})
    cmd = runs[0]
    for i, src in enumerate(sorted(moves, key=len, reverse=True)):
        cmd = cmd.replace(src, f"\0{i}\0")
    for i, src in enumerate(sorted(moves, key=len, reverse=True)):
        cmd = cmd.replace(f"\0{i}\0", moves[src])
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=scratch + "/usr/share/ansible/collections", HOME=scratch)
    out = subprocess.run(["/bin/sh", "-ec", cmd], capture_output=True, text=True, env=env, cwd=scratch, check=False)
    need(out.returncode == 0, f"the install step failed: {out.stdout[-500:]}{out.stderr[-500:]}")
    mods = glob.glob(scratch + "/usr/share/ansible/collections/ansible_collections/metalkit/baremetal/plugins/modules/*")
    # plugins/modules/NAME links to modules-linux-amd64/NAME; NAME.py and NAME.yml are its docs.
    binaries = [m for m in mods if not m.endswith((".yml", ".yaml", ".py"))]
    need(bool(binaries) and all(os.access(m, os.X_OK) for m in binaries), f"installed modules missing or not executable: {binaries}")
    need(not any(os.path.exists(d) for d in copied.values()), "the install step must remove its staging copy from the image")
for p in problems:
    print(f"lint: execution-environment.yml: {p}")
if problems:
    sys.exit(1)
print(f"lint: execution-environment.yml: ok (version 3; its install step puts {len(binaries)} executable modules in place offline)")
PYEOF
fi
exit "$status"
