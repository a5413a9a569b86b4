package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// fakeQcow2 is n bytes starting with the qcow2 magic, half random (so it
// does not compress to nothing) and half zero.
func fakeQcow2(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n/2; i++ {
		b[i] = byte(r.Uint32())
	}
	copy(b, "QFI\xfb\x00\x00\x00\x03")
	return b
}

func compress(t testing.TB, c Compression, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch c {
	case CompressionNone:
		return data
	case CompressionGzip:
		w = gzip.NewWriter(&buf)
	case CompressionXZ:
		w, err = xz.NewWriter(&buf)
	case CompressionZstd:
		w, err = zstd.NewWriter(&buf)
	}
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func writeFile(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "img")
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

func hexSum(h interface{ Sum([]byte) []byte }) string { return hex.EncodeToString(h.Sum(nil)) }

func sums(data []byte) (string, string) {
	a, b := sha256.Sum256(data), sha512.Sum512(data)
	return hex.EncodeToString(a[:]), hex.EncodeToString(b[:])
}

func TestPumpDecompressesHashesAndSends(t *testing.T) {
	img := fakeQcow2(3*DefaultBlockSize + 12345) // several blocks and a partial one
	img256, img512 := sums(img)
	for _, c := range []Compression{CompressionNone, CompressionGzip, CompressionXZ, CompressionZstd} {
		t.Run(string(c), func(t *testing.T) {
			src := compress(t, c, img)
			src256, _ := sums(src)
			s, err := OpenStream(context.Background(), &FileSource{Path: writeFile(t, src)}, StreamOptions{Decompress: CompressionAuto, DiskFormat: "auto", Blocks: 3})
			require.NoError(t, err)
			defer s.Close()
			assert.Equal(t, c, s.Compression)
			assert.Equal(t, "qcow2", s.DiskFormat)
			var out bytes.Buffer
			d, err := s.Pump(context.Background(), &out, func(d Digests) error {
				return d.Verify([]Checksum{{"sha256", src256}, {"sha512", img512}})
			})
			require.NoError(t, err)
			assert.True(t, bytes.Equal(img, out.Bytes()), "uploaded bytes differ from the image")
			assert.Equal(t, img256, d.ImageSHA256)
			assert.Equal(t, img512, d.ImageSHA512)
			assert.Equal(t, src256, d.SourceSHA256)
			assert.Equal(t, int64(len(src)), d.BytesIn)
			assert.Equal(t, int64(len(img)), d.BytesOut)
		})
	}
}

func TestPumpHoldsBackTheLastBlockOnChecksumMismatch(t *testing.T) {
	img := fakeQcow2(2*DefaultBlockSize + 10)
	for _, c := range []Compression{CompressionNone, CompressionGzip} {
		t.Run(string(c), func(t *testing.T) {
			s, err := OpenStream(context.Background(), &FileSource{Path: writeFile(t, compress(t, c, img))}, StreamOptions{Decompress: CompressionAuto, DiskFormat: "auto"})
			require.NoError(t, err)
			defer s.Close()
			var out bytes.Buffer
			wrong := Checksum{"sha256", "00" + hexSum(sha256.New())[2:]}
			d, err := s.Pump(context.Background(), &out, func(d Digests) error { return d.Verify([]Checksum{wrong}) })
			var ce *ChecksumError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), wrong.Hex)
			assert.Contains(t, err.Error(), d.ImageSHA256)
			assert.Contains(t, err.Error(), d.SourceSHA256)
			assert.Less(t, out.Len(), len(img), "the receiver must never get the whole image")
		})
	}
}

func TestOpenStreamRefusesWhatWouldBeWrong(t *testing.T) {
	img := fakeQcow2(100000)
	raw := bytes.Repeat([]byte{0, 1, 2, 3}, 20000)
	gz := compress(t, CompressionGzip, img)
	tests := []struct {
		name       string
		data       []byte
		decompress Compression
		format     string
		wantErr    string
	}{
		{"compressed bytes labelled qcow2", gz, CompressionNone, "qcow2", "still gzip-compressed"},
		{"compressed bytes with auto format", gz, CompressionNone, "auto", "refusing to upload compressed bytes"},
		{"double compression", compress(t, CompressionGzip, gz), CompressionAuto, "auto", "still gzip-compressed"},
		{"raw labelled qcow2", raw, CompressionAuto, "qcow2", "does not start with the qcow2 header"},
		{"qcow2 labelled raw", img, CompressionAuto, "raw", "the image is qcow2"},
		{"wrong decompressor", gz, CompressionXZ, "auto", "does not start with the xz magic"},
		{"bzip2", append([]byte("BZh91AY&SY"), raw...), CompressionAuto, "auto", "bzip2-compressed, which is not supported"},
		{"empty", nil, CompressionAuto, "auto", "empty"},
		{"gzip header only", gz[:5], CompressionAuto, "auto", "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenStream(context.Background(), &FileSource{Path: writeFile(t, tt.data)}, StreamOptions{Decompress: tt.decompress, DiskFormat: tt.format})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestPumpFailsOnTruncatedCompressedStreams(t *testing.T) {
	img := fakeQcow2(2 * DefaultBlockSize)
	for _, c := range []Compression{CompressionGzip, CompressionXZ, CompressionZstd} {
		t.Run(string(c), func(t *testing.T) {
			full := compress(t, c, img)
			s, err := OpenStream(context.Background(), &FileSource{Path: writeFile(t, full[:len(full)*2/3])}, StreamOptions{Decompress: CompressionAuto, DiskFormat: "auto"})
			require.NoError(t, err)
			defer s.Close()
			var out bytes.Buffer
			_, err = s.Pump(context.Background(), &out, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "truncated or corrupt")
			assert.Less(t, out.Len(), len(img))
		})
	}
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("connection reset by Glance")
	}
	f.after--
	return len(p), nil
}

func TestPumpStopsWhenTheReceiverFails(t *testing.T) {
	img := fakeQcow2(6 * DefaultBlockSize)
	s, err := OpenStream(context.Background(), &FileSource{Path: writeFile(t, compress(t, CompressionGzip, img))}, StreamOptions{Decompress: CompressionAuto, DiskFormat: "auto", Blocks: 2})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Pump(context.Background(), &failingWriter{after: 1}, nil)
	require.ErrorContains(t, err, "connection reset by Glance")
}

func TestParseChecksums(t *testing.T) {
	h256, h512 := sums([]byte("x"))
	tests := []struct {
		in      []string
		want    []Checksum
		wantErr string
	}{
		{[]string{"sha256:" + h256}, []Checksum{{"sha256", h256}}, ""},
		{[]string{"SHA512: " + h512, ""}, []Checksum{{"sha512", h512}}, ""},
		{[]string{"md5:d41d8cd98f00b204e9800998ecf8427e"}, nil, "ALGO sha256 or sha512"},
		{[]string{h256}, nil, "not ALGO:HEX"},
		{[]string{"sha256:abc"}, nil, "64 hex digits"},
		{[]string{"sha256:" + h256, "sha256:" + h256, "sha512:" + h512}, nil, "at most two"},
	}
	for _, tt := range tests {
		got, err := ParseChecksums(tt.in)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, tt.in)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
}

func TestSniffDiskFormat(t *testing.T) {
	iso := make([]byte, HeaderSize)
	copy(iso[32769:], "CD001")
	vdi := make([]byte, 100)
	copy(vdi[64:], []byte{0x7f, 0x10, 0xda, 0xbe})
	for want, head := range map[string][]byte{
		"qcow2": []byte("QFI\xfb\x00\x00\x00\x03"), "vmdk": []byte("KDMV\x01"), "vhdx": []byte("vhdxfile"),
		"iso": iso, "vdi": vdi, "raw": make([]byte, 512),
	} {
		assert.Equal(t, want, SniffDiskFormat(head))
	}
}

// BenchmarkPump measures the decompress+hash pipeline alone (no network):
// what the module can feed Glance per second on this machine.
func BenchmarkPump(b *testing.B) {
	img := fakeQcow2(32 << 20)
	for _, c := range []Compression{CompressionGzip, CompressionZstd, CompressionNone} {
		b.Run(string(c), func(b *testing.B) {
			path := writeFile(b, compress(b, c, img))
			b.SetBytes(int64(len(img)))
			b.ResetTimer()
			for range b.N {
				s, err := OpenStream(context.Background(), &FileSource{Path: path}, StreamOptions{Decompress: CompressionAuto, DiskFormat: "auto"})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Pump(context.Background(), io.Discard, nil); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
