#!/usr/bin/env bash
# ansible-test sanity on the built collection, offline.
#
#   make collection && tests/sanity/run.sh [ansible-test sanity options, e.g. --test validate-modules]
#
# ansible-test fills one virtual environment per sanity test from PyPI, which
# this machine (and CI) cannot reach. prepare_venvs.py makes those venvs from
# Debian's packages (--system-site-packages plus the marker files ansible-test
# writes after an install), under build/sanity/home so a user's own
# ~/.ansible/test is left alone. The collection under test is the tarball
# users install, unpacked outside the git checkout (inside it, ansible-test
# asks git for the file list and finds build/ ignored: no targets).
#
# Besides ansible-test, binary modules get the check that its ansible-doc test
# only does for Python plugins: `ansible-doc` renders DOCUMENTATION, EXAMPLES
# and RETURN for every module.
#
# Ends with `sanity: N passed, N failed, N skipped`; exit status non-zero on a failure.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Debian's python and ansible-test: a pyenv python3 on PATH cannot import Debian's packages.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8
out="$repo/build/sanity"
mkdir -p "$out"

die() { echo "sanity: $*" >&2; exit 1; }

log() { echo "sanity: $*"; }
APT_LOG=$out/apt.log
# shellcheck source=../lib.sh
. "$repo/tests/lib.sh"
tarball=$(collection_tarball "$repo")

work=$(mktemp -d "${TMPDIR:-/tmp}/metalkit-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
coll="$work/ansible_collections/metalkit/baremetal"
mkdir -p "$coll"
tar -xzf "$tarball" -C "$coll"
# The tarball ships tests/sanity/ignore-2.14.txt .. ignore-2.19.txt (one list, tests/sanity/ignore.txt).
ignore="$coll/tests/sanity/ignore-$(ansible --version | sed -n '1s/.*core \([0-9]*\.[0-9]*\).*/\1/p').txt"
[ -f "$ignore" ] || die "the tarball lacks $(basename "$ignore") for this ansible-test"

# What the collection holds decides which tests have targets, hence which
# Debian packages and venvs are needed.
has_py=$(find "$coll/plugins" -name '*.py' | head -1)
has_sh=$(find "$coll" -path "$coll/tests/output" -prune -o -name '*.sh' -print | head -1)
has_changelog=$(ls -d "$coll/changelogs" 2>/dev/null || true)

pkgs=(ansible-core python3-venv python3-yaml python3-jinja2 python3-voluptuous python3-packaging yamllint)
venvs=(line-endings ansible-doc runtime-metadata validate-modules yamllint)
skip=()
[ -n "$has_sh" ] && pkgs+=(shellcheck)
if [ -n "$has_py" ]; then
	pkgs+=(python3-pycodestyle pylint)
	venvs+=(pep8 pylint)
	# The import test runs each plugin in a venv made WITHOUT system site
	# packages (that is what it tests), so it cannot be built from Debian's.
	skip+=(import)
	echo "sanity: skipping import: it needs isolated venvs from PyPI (plugins hold Python: $has_py)"
fi
if [ -n "$has_changelog" ]; then
	skip+=(changelog)
	echo "sanity: skipping changelog: antsibull-changelog is not packaged in Debian 12"
fi

apt_ensure "${pkgs[@]}"

# Every module needs its ignore lines; say which one is missing before ansible-test does.
for m in "$coll"/plugins/modules/*.yml; do
	name=plugins/modules/$(basename "$m" .yml)
	for want in "$name.yml validate-modules:missing-gplv3-license" "$name.py validate-modules:missing-gplv3-license"; do
		grep -q "^$want" "$ignore" || die "tests/sanity/ignore.txt lacks: $want"
	done
done

export HOME="$out/home"
pyver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
(cd "$coll" && /usr/bin/python3 "$repo/tests/sanity/prepare_venvs.py" "${venvs[@]}" >"$out/venvs.log") ||
	die "preparing the sanity venvs failed (see above)"

status=0
skip_args=()
for s in "${skip[@]}"; do skip_args+=(--skip-test "$s"); done
(cd "$coll" && ansible-test sanity --python "$pyver" --color no --junit "${skip_args[@]}" "$@") >"$out/ansible-test.log" 2>&1 || status=$?
grep -v '^WARNING: Using locale\|^WARNING: Reviewing previous' "$out/ansible-test.log" | grep -v '^Running sanity test' || true
rm -rf "$out/junit" && cp -r "$coll/tests/output/junit" "$out/junit" 2>/dev/null || true

# ansible-doc for every binary module (ansible-test's ansible-doc test covers .py only).
doc_failed=0
export ANSIBLE_COLLECTIONS_PATH="$work" ANSIBLE_NOCOLOR=1
for m in "$coll"/plugins/modules/*.yml; do
	name=$(basename "$m" .yml)
	if ! ansible-doc -t module "metalkit.baremetal.$name" --json 2>"$out/ansible-doc-$name.err" |
		/usr/bin/python3 -c '
import json, sys
name = sys.argv[1]
doc = json.load(sys.stdin).get("metalkit.baremetal." + name) or sys.exit("no documentation")
d = doc.get("doc") or {}
problems = [k for k in ("short_description", "description", "options", "author") if not d.get(k)]
problems += [k for k in ("examples", "return") if not doc.get(k)]
if problems:
    sys.exit("missing or empty: " + ", ".join(problems))
' "$name" 2>>"$out/ansible-doc-$name.err"; then
		echo "ansible-doc metalkit.baremetal.$name: $(tail -1 "$out/ansible-doc-$name.err")"
		doc_failed=$((doc_failed + 1))
	fi
done
if [ -e "$coll/plugins/modules" ]; then
	n=$(find "$coll/plugins/modules" -name '*.yml' | wc -l)
	mkdir -p "$out/junit"
	echo "$n $doc_failed" >"$out/junit/binary-ansible-doc.txt"
fi

# Summary from ansible-test's JUnit files: a skipped result is "No tests applicable".
summary=0
/usr/bin/python3 - "$out/junit" "${skip[@]}" <<'EOF' || summary=$?
import glob, os, sys
import xml.etree.ElementTree as ET
junit, skipped_by_us = sys.argv[1], sys.argv[2:]
passed, failed, skipped = [], [], []
for path in sorted(glob.glob(os.path.join(junit, "*.xml"))):
    for case in ET.parse(path).iter("testcase"):
        name = case.get("name")
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(name)
        elif case.find("skipped") is not None:
            skipped.append(name)
        else:
            passed.append(name)
with open(os.path.join(junit, "binary-ansible-doc.txt")) as f:
    n, bad = map(int, f.read().split())
(failed if bad else passed).append(f"ansible-doc(binary modules: {n - bad}/{n} ok)")
skipped += [s + " (not run)" for s in skipped_by_us]
print("ran:     " + " ".join(passed))
print("failed:  " + (" ".join(failed) or "-"))
print("no targets/skipped: " + " ".join(skipped))
print(f"sanity: {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
sys.exit(1 if failed else 0)
EOF
[ "$status" -eq 0 ] && [ "$doc_failed" -eq 0 ] && [ "$summary" -eq 0 ]
