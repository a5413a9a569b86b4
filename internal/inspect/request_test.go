package inspect

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewDesired(t *testing.T) {
	tests := []struct {
		name         string
		capabilities any
		rc           string
		properties   map[string]any
		wantCaps     string
		wantRC       string
		wantProps    map[string]any
		wantWarning  string
		wantErr      string
	}{
		{name: "the operator's flavor tags", capabilities: "profile:baremetal,boot_option:local", rc: "baremetal",
			wantCaps: "profile:baremetal,boot_option:local", wantRC: "baremetal"},
		{name: "CUSTOM_ trap stripped with a warning", rc: "CUSTOM_BAREMETAL", wantRC: "baremetal",
			wantWarning: `resource_class "CUSTOM_BAREMETAL": Nova adds the CUSTOM_ prefix itself and would look for CUSTOM_CUSTOM_BAREMETAL; using "baremetal"`},
		{name: "old resources idiom becomes resource_class", properties: map[string]any{"resources": "CUSTOM_BAREMETAL:1", "cpus": 8},
			wantRC: "baremetal", wantProps: map[string]any{"cpus": 8}, wantWarning: "properties.resources=CUSTOM_BAREMETAL:1 is the old way to match a flavor"},
		{name: "capabilities inside properties are merged, the option wins", capabilities: map[string]any{"profile": "baremetal"},
			properties: map[string]any{"capabilities": "profile:compute,boot_option:local"}, wantCaps: "profile:baremetal,boot_option:local"},
		{name: "null property kept (it removes the key)", properties: map[string]any{"vendor": nil}, wantProps: map[string]any{"vendor": nil}},
		{name: "bad capabilities named", capabilities: "profile", wantErr: `capabilities: capability "profile" is not key:value`},
		{name: "bad property key", properties: map[string]any{"a/b": 1}, wantErr: `properties: key "a/b" is not a property name`},
		{name: "resources idiom disagreeing with resource_class", rc: "compute", properties: map[string]any{"resources": "CUSTOM_BAREMETAL:1"},
			wantErr: `resource_class "compute" and properties.resources (CUSTOM_BAREMETAL:1) disagree`},
		{name: "resources not the idiom", properties: map[string]any{"resources": "VCPU:4"}, wantErr: "properties.resources must be one CUSTOM_<CLASS>:1 entry"},
		{name: "every problem listed", capabilities: "x", properties: map[string]any{"": 1}, wantErr: `properties: key "" is not a property name (no '/' or '~', not empty); capabilities: capability "x" is not key:value`},
		{name: "empty class after CUSTOM_", rc: "CUSTOM_", wantErr: `resource_class "CUSTOM_": nothing left`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, warnings, err := NewDesired(true, false, tt.capabilities, tt.rc, tt.properties)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tt.wantErr, err.Error()[:min(len(err.Error()), len(tt.wantErr))])
				return
			}
			require.NoError(t, err)
			assert.True(t, d.Provide)
			assert.Equal(t, tt.wantCaps, d.Capabilities.String())
			assert.Equal(t, tt.wantRC, d.ResourceClass)
			assert.Equal(t, tt.wantProps, d.Properties)
			if tt.wantWarning == "" {
				assert.Empty(t, warnings)
			} else {
				require.Len(t, warnings, 1)
				assert.Contains(t, warnings[0], tt.wantWarning)
			}
		})
	}
}
