package ignition

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CA certificates full of DNS names: a bundle that gzip shrinks a lot.
func compressibleBundle(t *testing.T) string { return bundle(t, 8, certOpts{sans: 150}) }

// CA certificates carrying random bytes: gzip cannot help.
func incompressibleBundle(t *testing.T) string { return bundle(t, 8, certOpts{noiseSize: 6000}) }

func TestSizeLimitCompressesCABundleOn34(t *testing.T) {
	ca := compressibleBundle(t)
	// Precondition: uncompressed, this is over Nova's limit.
	plain, err := Render(Options{SpecVersion: "3.4.0", CACertificates: []string{ca}, MaxSize: -1})
	require.NoError(t, err)
	require.Greater(t, plain.EncodedSize, DefaultMaxSize)
	require.False(t, plain.Compressed)

	r, err := Render(Options{SpecVersion: "3.4.0", CACertificates: []string{ca}})
	require.NoError(t, err)
	assert.True(t, r.Compressed)
	assert.LessOrEqual(t, r.EncodedSize, DefaultMaxSize)
	assert.Equal(t, len(r.JSON), r.Size)
	assert.Equal(t, (r.Size+2)/3*4, r.EncodedSize)
	assert.Contains(t, strings.Join(r.Warnings, "\n"), "inline contents were gzip-compressed")

	rpt, err := ignitionParse["3.4.0"](r.JSON)
	require.NoError(t, err, rpt.String())
	assert.Empty(t, rpt.Entries)
	res := dig(t, r.Config, "ignition", "security", "tls", "certificateAuthorities", 0).(map[string]any)
	assert.Equal(t, "gzip", res["compression"])
	assert.Equal(t, ca, decodeSource(t, res))
}

func TestSizeLimitTooLargeEvenCompressed(t *testing.T) {
	_, err := Render(Options{SpecVersion: "3.4.0", CACertificates: []string{incompressibleBundle(t)}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrTooLarge))
	msg := err.Error()
	assert.Contains(t, msg, "against Nova's limit of 65535 base64-encoded bytes")
	assert.Contains(t, msg, "with gzip-compressed contents")
	assert.Contains(t, msg, "pointer config")
	assert.Contains(t, msg, "replace (or merge) with its source URL")
}

func TestSizeLimitNoCACompressionOn30(t *testing.T) {
	_, err := Render(Options{SpecVersion: "3.0.0", CACertificates: []string{compressibleBundle(t)}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrTooLarge))
	assert.Contains(t, err.Error(), "nothing inline here can be compressed")
	assert.Contains(t, err.Error(), "spec 3.0.0 cannot compress CA certificates (3.1.0+ can)")
	assert.Contains(t, err.Error(), "pointer config")
}

func TestSizeLimitCompressesFiles(t *testing.T) {
	// File contents may be gzipped in every spec we emit, 3.0 and 2.2 included.
	script := "#!/bin/sh\n" + strings.Repeat("echo 'configuring the bare-metal host, step by step'\n", 1500)
	for _, version := range []string{"3.0.0", "3.5.0", "2.2.0"} {
		t.Run(version, func(t *testing.T) {
			r, err := Render(Options{SpecVersion: version, Files: []File{
				{Path: "/usr/local/bin/setup", Contents: &script, Mode: ptr(0o755)},
				{Path: "/etc/tiny", Contents: ptr("x")}, // gzip would grow it: stays plain
			}})
			require.NoError(t, err)
			assert.True(t, r.Compressed)
			assert.LessOrEqual(t, r.EncodedSize, DefaultMaxSize)
			big := dig(t, r.Config, "storage", "files", 0, "contents").(map[string]any)
			assert.Equal(t, "gzip", big["compression"])
			assert.Equal(t, script, decodeSource(t, big))
			tiny := dig(t, r.Config, "storage", "files", 1, "contents").(map[string]any)
			assert.NotContains(t, tiny, "compression")
			if parse, ok := ignitionParse[version]; ok {
				rpt, err := parse(r.JSON)
				require.NoError(t, err, rpt.String())
			}
		})
	}
}

func TestSizeLimitCustomAndDisabled(t *testing.T) {
	o := Options{Users: []User{{Name: "core", SSHAuthorizedKeys: []string{sshPublicKey(t, "k@example.invalid")}}}}
	o.MaxSize = 100
	_, err := Render(o)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.ErrorContains(t, err, "limit of 100 base64-encoded bytes; nothing inline here can be compressed")

	o.MaxSize = -1
	r, err := Render(o)
	require.NoError(t, err)
	assert.False(t, r.Compressed)

	// Under the limit nothing is compressed, even where it could be.
	r, err = Render(Options{Files: []File{{Path: "/etc/a", Contents: ptr(strings.Repeat("a", 10000))}}})
	require.NoError(t, err)
	assert.False(t, r.Compressed)
	assert.NotContains(t, string(r.JSON), "gzip")
}
