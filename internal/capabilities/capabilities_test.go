package capabilities

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCapabilities(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    string
		wantErr string
	}{
		{name: "ironic string", in: "profile:baremetal,boot_option:local", want: "profile:baremetal,boot_option:local"},
		{name: "spaces and empty items", in: " profile : baremetal ,, boot_option:local,", want: "profile:baremetal,boot_option:local"},
		{name: "value with colon kept whole", in: "boot_mode:uefi,node:a:b", want: "boot_mode:uefi,node:a:b"},
		{name: "duplicate key last wins in place", in: "a:1,b:2,a:3", want: "a:3,b:2"},
		{name: "dict sorted by key", in: map[string]any{"profile": "baremetal", "boot_option": "local"}, want: "boot_option:local,profile:baremetal"},
		{name: "dict numbers and bools", in: map[string]any{"cpu_vt": true, "n": json.Number("2")}, want: "cpu_vt:true,n:2"},
		{name: "nil", in: nil, want: ""},
		{name: "no colon", in: "profile", wantErr: `capability "profile" is not key:value`},
		{name: "empty key", in: ":x", wantErr: `capability ":x" is not key:value`},
		{name: "dict value with comma", in: map[string]any{"a": "x,y"}, wantErr: "must not contain ','"},
		{name: "dict key with colon", in: map[string]any{"a:b": "x"}, wantErr: "must not contain ':' or ','"},
		{name: "dict nested value", in: map[string]any{"a": []any{"x"}}, wantErr: `capability "a": value must be a string, number or boolean`},
		{name: "wrong type", in: 42, wantErr: "capabilities must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.String())
		})
	}
}

func TestCapabilitiesMergeKeepsWhatInspectionFound(t *testing.T) {
	found, err := Parse("boot_mode:uefi,cpu_vt:true,profile:compute")
	require.NoError(t, err)
	want, err := Parse("profile:baremetal,boot_option:local")
	require.NoError(t, err)

	assert.False(t, found.Covers(want))
	merged := found.Merge(want)
	assert.Equal(t, "boot_mode:uefi,cpu_vt:true,profile:baremetal,boot_option:local", merged.String())
	assert.True(t, merged.Covers(want))
	assert.Equal(t, merged, merged.Merge(want), "a second merge changes nothing")
	assert.Equal(t, "boot_mode:uefi,cpu_vt:true,profile:compute", found.String(), "merge does not modify its receiver")
	assert.Equal(t, map[string]any{"boot_mode": "uefi", "cpu_vt": "true", "profile": "baremetal", "boot_option": "local"}, merged.Map())
}
