package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/ansible/ansibletest"
)

const secret = "SENTINEL-pass-51f0"

// Bad input fails before any connection, naming the option: the cloud
// below does not exist, so reaching it would fail differently.
func TestBadInputFailsBeforeAnyCall(t *testing.T) {
	file := filepath.Join(t.TempDir(), "img.qcow2")
	require.NoError(t, os.WriteFile(file, []byte("QFI\xfb"), 0o644))
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"no source", map[string]any{}, "state is present but any of the following are missing: url, src"},
		{"both sources", map[string]any{"url": "http://127.0.0.1/x", "src": file}, "parameters are mutually exclusive: url|src"},
		{"bad checksum", map[string]any{"src": file, "checksum": "sha256:xyz"}, "checksum: the sha256 value must be 64 hex digits"},
		{"md5 checksum", map[string]any{"src": file, "checksum": []any{"md5:abc"}}, "checksum: \"md5:abc\" is not ALGO:HEX"},
		{"ftp url", map[string]any{"url": "ftp://u:" + secret + "@127.0.0.1/x"}, "url: scheme \"ftp\" is not supported"},
		{"no host", map[string]any{"url": "http:///x"}, "has no host"},
		{"reserved property", map[string]any{"src": file, "properties": map[string]any{"metalkit_source": "x"}}, "properties: metalkit_source is reserved"},
		{"missing file", map[string]any{"src": file + ".nope"}, "src: stat"},
		{"negative min_disk", map[string]any{"src": file, "min_disk": -1}, "min_disk: must be 0 or more"},
		{"web-download from a file", map[string]any{"src": file, "method": "web-download"}, "web-download needs url"},
		{"bad choice", map[string]any{"src": file, "decompress": "bzip2"}, "value of decompress must be one of: auto, none, gzip, xz, zstd, got: bzip2"},
		// openstack.cloud's filename is src: the same checks apply to it.
		{"filename is src", map[string]any{"filename": file + ".nope"}, "src: stat"},
		{"filename and url", map[string]any{"filename": file, "url": "http://127.0.0.1/x"}, "parameters are mutually exclusive: url|src"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := map[string]any{"name": "glance_rhcos-unit", "cloud": "no-such-cloud"}
			for k, v := range tt.args {
				args[k] = v
			}
			res := ansibletest.RunWithArgs(t, spec, args, module)
			assert.Equal(t, true, res["failed"])
			assert.Contains(t, res["msg"], tt.want)
			assert.Equal(t, false, res["changed"])
			out, _ := json.Marshal(res)
			assert.NotContains(t, string(out), secret)
		})
	}
}

func TestURLCredentialsNeverPrinted(t *testing.T) {
	// Nothing listens on port 9 of 127.0.0.1: the connection to the cloud
	// fails first, and the result still echoes the URL only masked.
	res := ansibletest.RunWithArgs(t, spec, map[string]any{
		"name": "glance_rhcos-unit", "cloud": "no-such-cloud",
		"url": "http://mirror:" + secret + "@127.0.0.1:9/rhcos.qcow2.gz?sig=SENTINEL-query-77aa",
	}, module)
	out, _ := json.Marshal(res)
	assert.Equal(t, true, res["failed"])
	assert.NotContains(t, string(out), secret)
	assert.NotContains(t, string(out), "SENTINEL-query-77aa")
	assert.True(t, strings.Contains(string(out), "mirror:"), "the user name may stay: %s", out)
}

func TestDocsCurrent(t *testing.T) {
	ansibletest.AssertDocsCurrent(t, spec, "../../collection/plugins/modules/glance_rhcos.yml")
}
