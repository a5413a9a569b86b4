package ansible

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func docSpec() *Spec {
	return &Spec{
		Name:                "ironic_enroll",
		ShortDescription:    "Enroll bare metal nodes in Ironic",
		VersionAdded:        "0.1.0",
		SeeAlso:             []SeeAlso{{Module: "metalkit.baremetal.ironic_introspect", Description: "Inspect the nodes O(nodes) enrolled."}},
		Description:         []string{"Creates nodes and ports.", "Idempotent."},
		Author:              []string{"metalkit engineers"},
		Notes:               []string{"Check mode reports what would change."},
		ExtendsDocFragments: []string{"metalkit.baremetal.openstack"},
		Options: map[string]*Option{
			"state": {Choices: []any{"present", "absent"}, Default: "present", Description: []string{"Desired state."}},
			"nodes": {Type: TypeList, Elements: TypeDict, Required: true, Aliases: []string{"servers"}, Description: []string{"Nodes to enroll."},
				Options: map[string]*Option{
					"pm_password": {NoLog: true, Description: []string{"BMC password."}, VersionAdded: "1.1.0"},
					"ports":       {Type: TypeList, Elements: TypeStr, Default: []string{}, Description: []string{"MACs."}},
				}},
		},
		Examples: "- name: Enroll\n  metalkit.baremetal.ironic_enroll:\n    nodes: []\n",
		Return: map[string]*ReturnValue{
			"nodes": {Description: []string{"Enrolled nodes."}, Returned: "always", Type: "list", Elements: "dict",
				Sample:   []any{map[string]any{"uuid": "1be26c0b"}},
				Contains: map[string]*ReturnValue{"uuid": {Description: []string{"Node UUID."}, Type: "str", Returned: "always"}}},
		},
	}
}

func TestDocsYAMLStructure(t *testing.T) {
	out, err := DocsYAML(docSpec())
	require.NoError(t, err)
	var file map[string]any
	require.NoError(t, yaml.Unmarshal(out, &file))
	assert.ElementsMatch(t, []string{"DOCUMENTATION", "EXAMPLES", "RETURN"}, keys(file))
	assert.Equal(t, docSpec().Examples, file["EXAMPLES"])

	doc := file["DOCUMENTATION"].(map[string]any)
	assert.Equal(t, "ironic_enroll", doc["module"])
	assert.Equal(t, "Enroll bare metal nodes in Ironic", doc["short_description"])
	assert.Equal(t, []any{"Creates nodes and ports.", "Idempotent."}, doc["description"])
	assert.Equal(t, []any{"metalkit engineers"}, doc["author"])
	assert.Equal(t, []any{"Check mode reports what would change."}, doc["notes"])
	assert.Equal(t, []any{"metalkit.baremetal.openstack"}, doc["extends_documentation_fragment"])
	attrs := doc["attributes"].(map[string]any)
	assert.Equal(t, "full", attrs["check_mode"].(map[string]any)["support"])
	assert.Equal(t, "full", attrs["diff_mode"].(map[string]any)["support"])
	platform := attrs["platform"].(map[string]any)
	assert.Equal(t, "posix", platform["platforms"])
	assert.Contains(t, platform["details"], "linux/amd64")
	assert.Equal(t, "0.1.0", doc["version_added"])
	assert.Equal(t, []any{map[string]any{"module": "metalkit.baremetal.ironic_introspect", "description": "Inspect the nodes C(nodes) enrolled."}}, doc["seealso"])

	opts := doc["options"].(map[string]any)
	assert.Equal(t, map[string]any{
		"description": []any{"Desired state."}, "type": "str",
		"choices": []any{"present", "absent"}, "default": "present",
	}, opts["state"])
	nodes := opts["nodes"].(map[string]any)
	assert.Equal(t, true, nodes["required"])
	assert.Equal(t, "list", nodes["type"])
	assert.Equal(t, "dict", nodes["elements"])
	assert.Equal(t, []any{"servers"}, nodes["aliases"])
	sub := nodes["suboptions"].(map[string]any)
	assert.Equal(t, map[string]any{"description": []any{"BMC password."}, "type": "str", "version_added": "1.1.0"}, sub["pm_password"],
		"no no_log key, no required: false")
	assert.Equal(t, []any{}, sub["ports"].(map[string]any)["default"])

	ret := file["RETURN"].(map[string]any)["nodes"].(map[string]any)
	assert.Equal(t, "always", ret["returned"])
	assert.Equal(t, []any{map[string]any{"uuid": "1be26c0b"}}, ret["sample"])
	assert.Equal(t, "str", ret["contains"].(map[string]any)["uuid"].(map[string]any)["type"])

	again, err := DocsYAML(docSpec())
	require.NoError(t, err)
	assert.Equal(t, string(out), string(again), "deterministic")
	assert.NotContains(t, string(out), "no_log")
}

func TestDocsYAMLIncomplete(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Spec)
		want   string
	}{
		{"option without description", func(s *Spec) { s.Options["state"].Description = nil }, "docs: option state has no description"},
		{"sub-option without description", func(s *Spec) { s.Options["nodes"].Options["ports"].Description = nil }, "docs: option nodes.ports has no description"},
		{"return without description", func(s *Spec) { s.Return["nodes"].Contains["uuid"].Description = nil }, "docs: return value nodes.uuid has no description"},
		{"no short description", func(s *Spec) { s.ShortDescription = "" }, `docs: module "ironic_enroll" needs a Name and a ShortDescription`},
		{"no version_added", func(s *Spec) { s.VersionAdded = "" }, `docs: module ironic_enroll needs VersionAdded, the collection version that first shipped it (X.Y.Z), not ""`},
		{"version_added not X.Y.Z", func(s *Spec) { s.VersionAdded = "1.0" }, `docs: module ironic_enroll needs VersionAdded, the collection version that first shipped it (X.Y.Z), not "1.0"`},
		{"seealso without FQCN", func(s *Spec) { s.SeeAlso[0].Module = "ironic_introspect" }, `docs: module ironic_enroll: seealso needs a module FQCN and a description, not "ironic_introspect"/"Inspect the nodes O(nodes) enrolled."`},
		{"seealso without description", func(s *Spec) { s.SeeAlso[0].Description = "" }, `docs: module ironic_enroll: seealso needs a module FQCN and a description, not "metalkit.baremetal.ironic_introspect"/""`},
		{"seealso to itself", func(s *Spec) { s.SeeAlso[0].Module = "metalkit.baremetal.ironic_enroll" }, "docs: module ironic_enroll: seealso points at itself"},
		{"invalid spec", func(s *Spec) { s.Options["state"].Required = true }, "docs for ironic_enroll: internal error: required and default are mutually exclusive for state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := docSpec()
			tc.mutate(s)
			_, err := DocsYAML(s)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
	// No description at module level falls back to the short description.
	s := docSpec()
	s.Description = nil
	out, err := DocsYAML(s)
	require.NoError(t, err)
	var file map[string]any
	require.NoError(t, yaml.Unmarshal(out, &file))
	assert.Equal(t, []any{"Enroll bare metal nodes in Ironic"}, file["DOCUMENTATION"].(map[string]any)["description"])
}

func keys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

func TestArgumentSpec(t *testing.T) {
	got := ArgumentSpec(&Spec{
		Options: map[string]*Option{
			"token": {NoLog: true, EnvFallback: []string{"OS_TOKEN"}, Aliases: []string{"auth_token"}},
			"count": {Type: TypeInt, Default: 3, Choices: []any{1, 3}},
			"auth": {Type: TypeDict, ApplyDefaults: true, Options: map[string]*Option{"user": {Required: true}},
				RequiredTogether: [][]string{{"user"}}},
		},
		MutuallyExclusive: [][]string{{"token", "count"}},
		RequiredIf: []RequiredIf{
			{Key: "count", Value: 3, Requirements: []string{"token"}},
			{Key: "count", Value: 1, Requirements: []string{"token", "auth"}, AnyOf: true},
		},
		RequiredBy: map[string][]string{"auth": {"token"}},
	})
	assert.Equal(t, map[string]any{
		"argument_spec": map[string]any{
			"token": map[string]any{"type": "str", "no_log": true, "fallback": []any{"env_fallback", []string{"OS_TOKEN"}}, "aliases": []string{"auth_token"}},
			"count": map[string]any{"type": "int", "default": 3, "choices": []any{1, 3}},
			"auth": map[string]any{"type": "dict", "apply_defaults": true,
				"options":           map[string]any{"user": map[string]any{"type": "str", "required": true}},
				"required_together": [][]string{{"user"}}},
		},
		"mutually_exclusive": [][]string{{"token", "count"}},
		"required_if":        []any{[]any{"count", 3, []string{"token"}}, []any{"count", 1, []string{"token", "auth"}, true}},
		"required_by":        map[string][]string{"auth": {"token"}},
	}, got)
}

func TestDocsRewriteSemanticMarkupFor214(t *testing.T) {
	assert.Equal(t, "Set C(dest) to C(true); see C(image.id) and C(OS_CLOUD); I(x) M(a.b.c) INFO(y)",
		legacyMarkup("Set O(dest) to V(true); see RV(image.id) and E(OS_CLOUD); I(x) M(a.b.c) INFO(y)"))
}
