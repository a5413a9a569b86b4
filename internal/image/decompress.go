package image

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression is how the source bytes are compressed.
type Compression string

const (
	CompressionAuto Compression = "auto"
	CompressionNone Compression = "none"
	CompressionGzip Compression = "gzip"
	CompressionXZ   Compression = "xz"
	CompressionZstd Compression = "zstd"
)

// magic numbers, at offset 0.
var (
	magicGzip  = []byte{0x1f, 0x8b}
	magicXZ    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicBzip2 = []byte("BZh")
)

// SniffCompression names the compression whose magic starts head, or "none".
// bzip2 is recognised only to be refused by name.
func SniffCompression(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, magicGzip):
		return CompressionGzip
	case bytes.HasPrefix(head, magicXZ):
		return CompressionXZ
	case bytes.HasPrefix(head, magicZstd):
		return CompressionZstd
	case bytes.HasPrefix(head, magicBzip2) && len(head) > 3 && head[3] >= '1' && head[3] <= '9':
		return "bzip2"
	}
	return CompressionNone
}

// maxZstdWindow bounds the zstd decoder's memory: RHCOS and `zstd -19` use
// 8 MiB windows; `--long=27` (128 MiB) would break the memory promise.
const maxZstdWindow = 32 << 20

// Decompress wraps r (peeked for magic bytes) with the decompressor asked for,
// or the one its magic bytes name when want is auto. It returns the reader of
// the uncompressed bytes, what was used, and a close func for the decoder.
func Decompress(r *bufio.Reader, want Compression) (io.Reader, Compression, func(), error) {
	head, err := r.Peek(8)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, "", nil, fmt.Errorf("reading the source: %w", err)
	}
	if len(head) == 0 {
		return nil, "", nil, errors.New("the source is empty")
	}
	got := SniffCompression(head)
	use := want
	switch want {
	case CompressionAuto:
		use = got
	case CompressionNone:
	default:
		if got != want {
			return nil, "", nil, fmt.Errorf("decompress: %s was asked for, but the source does not start with the %s magic bytes (it looks like %s)", want, want, describeCompression(got))
		}
	}
	noop := func() {}
	switch use {
	case CompressionNone:
		return r, use, noop, nil
	case CompressionGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, "", nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, use, func() { zr.Close() }, nil
	case CompressionXZ:
		xr, err := xz.ReaderConfig{SingleStream: false}.NewReader(r)
		if err != nil {
			return nil, "", nil, fmt.Errorf("xz: %w", err)
		}
		return xr, use, noop, nil
	case CompressionZstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, "", nil, fmt.Errorf("zstd: %w", err)
		}
		return zr, use, zr.Close, nil
	}
	return nil, "", nil, fmt.Errorf("the source is %s-compressed, which is not supported (gzip, xz and zstd are); decompress it first", use)
}

func describeCompression(c Compression) string {
	if c == CompressionNone {
		return "uncompressed data"
	}
	return string(c)
}
