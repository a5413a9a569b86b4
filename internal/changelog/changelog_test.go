package changelog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}

func TestRSTFromReleasedAndFragments(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "changelog.yaml"), `ancestor: null
releases:
  0.1.0:
    release_date: '2026-01-10'
    changes:
      release_summary: First release.
    modules:
      - name: ignition_render
        namespace: ''
        description: Render Ignition
`)
	write(t, filepath.Join(dir, "fragments", "b-fix.yml"), "bugfixes:\n  - |-\n    ironic_enroll - a fix\n    on two lines.\n")
	write(t, filepath.Join(dir, "fragments", "a-summary.yml"), "release_summary: Second.\nminor_changes:\n  - one\n  - two\n")
	rels, err := Load(dir, "0.10.0", []Module{{Name: "nova_bm_server", Description: "Boot"}})
	require.NoError(t, err)
	require.Len(t, rels, 2)
	assert.Equal(t, "0.10.0", rels[0].Version, "newest first, compared as numbers")

	assert.Equal(t, `================================
metalkit.baremetal Release Notes
================================

.. contents:: Topics

v0.10.0 (unreleased)
====================

Release Summary
---------------

Second.

Minor Changes
-------------

- one
- two

Bugfixes
--------

- ironic_enroll - a fix
  on two lines.

New Modules
-----------

- metalkit.baremetal.nova_bm_server - Boot

v0.1.0
======

Release Summary
---------------

First release.

New Modules
-----------

- metalkit.baremetal.ignition_render - Render Ignition
`, RST("metalkit.baremetal", rels))
}

func TestReleasedVersionIgnoresFragments(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "changelog.yaml"), "releases:\n  1.0.0:\n    release_date: '2026-01-10'\n    changes:\n      bugfixes: [x]\n")
	write(t, filepath.Join(dir, "fragments", "late.yml"), "bugfixes: [not in 1.0.0]\n")
	rels, err := Load(dir, "1.0.0", nil)
	require.NoError(t, err)
	require.Len(t, rels, 1)
	assert.Equal(t, []any{"x"}, rels[0].Changes["bugfixes"])
}

func TestBadFragmentsNameTheFile(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"unknown section", "fixes: [a]\n", `unknown section "fixes", expected one of release_summary, major_changes, minor_changes,`},
		{"not a list", "bugfixes: a fix\n", "bugfixes: expected a list of strings"},
		{"not strings", "bugfixes: [{a: b}]\n", "bugfixes: expected a list of strings"},
		{"summary not a string", "release_summary: [a]\n", "release_summary: expected one non-empty string"},
		{"not yaml", "bugfixes: [\n", "fragment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "changelog.yaml"), "releases: {}\n")
			write(t, filepath.Join(dir, "fragments", "bad.yml"), tc.text)
			_, err := Load(dir, "0.1.0", nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Join(dir, "fragments", "bad.yml"))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := Load(t.TempDir(), "0.1", nil)
	assert.EqualError(t, err, `changelog: version "0.1" is not X.Y.Z`)
}

func TestNewModulesFromSidecarDocs(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yml"), "DOCUMENTATION:\n  module: a\n  short_description: A thing\n  version_added: 0.1.0\n")
	write(t, filepath.Join(dir, "b.yml"), "DOCUMENTATION:\n  module: b\n  short_description: B thing\n  version_added: 0.2.0\n")
	mods, err := NewModules(dir, "0.2.0")
	require.NoError(t, err)
	assert.Equal(t, []Module{{Name: "b", Description: "B thing"}}, mods)

	write(t, filepath.Join(dir, "c.yml"), "DOCUMENTATION:\n  module: c\n")
	_, err = NewModules(dir, "0.2.0")
	assert.ErrorContains(t, err, "c.yml: DOCUMENTATION needs module and version_added")
}
