package image

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// Block pool: memory stays at Blocks*BlockSize (plus the decoder's window)
// whatever the image size.
const (
	DefaultBlockSize = 1 << 20
	DefaultBlocks    = 8
)

// StreamOptions say how to read a source.
type StreamOptions struct {
	Decompress   Compression // auto, none, gzip, xz, zstd
	DiskFormat   string      // auto or a Glance disk format
	SourceSHA512 bool        // also hash the download with sha512 (a sha512 checksum was given)
	BlockSize    int
	Blocks       int
}

// Stream is an opened source whose compression and disk format are known
// (from the first bytes) before anything is uploaded.
type Stream struct {
	Source      Source
	Meta        Meta
	Compression Compression
	DiskFormat  string

	opts     StreamOptions
	body     io.ReadCloser
	in       *hashingReader // the download, counted and hashed
	image    *bufio.Reader  // the uncompressed image, header peeked
	closeDec func()
}

// OpenStream opens the source and reads just enough to name its compression
// and disk format. A bad source (404, TLS, wrong format) fails here, before
// any image exists in Glance.
func OpenStream(ctx context.Context, src Source, o StreamOptions) (*Stream, error) {
	if o.BlockSize <= 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.Blocks <= 0 {
		o.Blocks = DefaultBlocks
	}
	body, meta, err := src.Open(ctx)
	if err != nil {
		return nil, err
	}
	hashes := []hash.Hash{sha256.New()}
	if o.SourceSHA512 {
		hashes = append(hashes, sha512.New())
	}
	in := &hashingReader{r: body, hashes: hashes}
	s := &Stream{Source: src, Meta: meta, opts: o, body: body, in: in}
	dec, comp, closeDec, err := Decompress(bufio.NewReaderSize(in, 256<<10), o.Decompress)
	if err != nil {
		body.Close()
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	s.Compression, s.closeDec = comp, closeDec
	s.image = bufio.NewReaderSize(dec, 2*HeaderSize)
	head, err := s.image.Peek(HeaderSize)
	if err != nil && !errors.Is(err, io.EOF) {
		s.Close()
		return nil, fmt.Errorf("%s: reading the %s stream: %w", src, describeCompression(comp), err)
	}
	if len(head) == 0 {
		s.Close()
		return nil, fmt.Errorf("%s: the image is empty", src)
	}
	s.DiskFormat, err = ChooseDiskFormat(o.DiskFormat, head)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return s, nil
}

// Close releases the source and the decoder.
func (s *Stream) Close() {
	if s.closeDec != nil {
		s.closeDec()
		s.closeDec = nil
	}
	s.body.Close()
}

type block struct {
	buf  []byte
	data []byte
	refs atomic.Int32
}

// Pump reads the whole stream and writes the uncompressed image to w while
// hashing it; decompression, each hash and the writer run concurrently on a
// bounded pool of blocks. The last block is held back until the stream has
// ended and verify (given the final digests) returns nil, so a receiver that
// finalises on the last byte (Glance) never gets a complete image that fails
// its checksum. Pump does not close w.
func (s *Stream) Pump(ctx context.Context, w io.Writer, verify func(Digests) error) (Digests, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}

	pool := make(chan *block, s.opts.Blocks)
	for range s.opts.Blocks {
		pool <- &block{buf: make([]byte, s.opts.BlockSize)}
	}
	release := func(b *block) {
		if b.refs.Add(-1) == 0 {
			pool <- b
		}
	}
	img256, img512 := sha256.New(), sha512.New()
	consumers := []chan *block{
		make(chan *block, s.opts.Blocks),
		make(chan *block, s.opts.Blocks),
		make(chan *block, s.opts.Blocks),
	}
	var bytesOut int64

	var hashers sync.WaitGroup
	for i, h := range []hash.Hash{img256, img512} {
		hashers.Add(1)
		go func(ch chan *block, h hash.Hash) {
			defer hashers.Done()
			for b := range ch {
				h.Write(b.data)
				release(b)
			}
		}(consumers[i], h)
	}

	final := make(chan error, 1)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		var pending *block
		broken := false
		for b := range consumers[2] {
			if pending != nil {
				if !broken {
					if _, err := w.Write(pending.data); err != nil {
						broken = true
						fail(fmt.Errorf("sending the image: %w", err))
					}
				}
				release(pending)
			}
			pending = b
		}
		if err := <-final; err == nil && pending != nil && !broken {
			if _, err := w.Write(pending.data); err != nil {
				fail(fmt.Errorf("sending the image: %w", err))
			}
		}
		if pending != nil {
			release(pending)
		}
	}()

	// The producer: read (download, decompress) into blocks.
	func() {
		defer func() {
			for _, ch := range consumers {
				close(ch)
			}
		}()
		for {
			var b *block
			select {
			case b = <-pool:
			case <-ctx.Done():
				fail(ctx.Err())
				return
			}
			n, err := fill(s.image, b.buf)
			bytesOut += int64(n)
			if n > 0 {
				b.data = b.buf[:n]
				b.refs.Store(int32(len(consumers)))
				for _, ch := range consumers {
					ch <- b // buffered as deep as the pool: never blocks
				}
			} else {
				pool <- b
			}
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				fail(s.readError(err))
				return
			}
			if ctx.Err() != nil {
				fail(ctx.Err())
				return
			}
		}
	}()
	hashers.Wait()

	d := Digests{
		ImageSHA256: hex.EncodeToString(img256.Sum(nil)),
		ImageSHA512: hex.EncodeToString(img512.Sum(nil)),
		BytesIn:     s.in.n,
		BytesOut:    bytesOut,
	}
	if s.Compression == CompressionNone {
		d.SourceSHA256, d.SourceSHA512 = d.ImageSHA256, ""
		if s.opts.SourceSHA512 {
			d.SourceSHA512 = d.ImageSHA512
		}
	} else {
		d.SourceSHA256 = hex.EncodeToString(s.in.hashes[0].Sum(nil))
		if s.opts.SourceSHA512 {
			d.SourceSHA512 = hex.EncodeToString(s.in.hashes[1].Sum(nil))
		}
	}
	if firstErr == nil && s.Meta.Size >= 0 && d.BytesIn != s.Meta.Size {
		fail(fmt.Errorf("%s: the download ended after %d of %d bytes", s.Source, d.BytesIn, s.Meta.Size))
	}
	if firstErr == nil && verify != nil {
		if err := verify(d); err != nil {
			fail(err)
		}
	}
	final <- firstErr
	<-writerDone
	return d, firstErr
}

// readError words a failure of the download or the decoder.
func (s *Stream) readError(err error) error {
	if s.Compression != CompressionNone {
		return fmt.Errorf("%s: the %s stream is truncated or corrupt (or the download broke) after %d bytes downloaded: %w", s.Source, s.Compression, s.in.n, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: the download ended early after %d bytes: %w", s.Source, s.in.n, err)
	}
	return fmt.Errorf("%s: reading after %d bytes: %w", s.Source, s.in.n, err)
}

// fill reads into buf until it is full or the reader ends; it returns io.EOF
// only at a clean end, so a decoder's io.ErrUnexpectedEOF stays an error.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// hashingReader counts and hashes what passes through it.
type hashingReader struct {
	r      io.Reader
	hashes []hash.Hash
	n      int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		h.n += int64(n)
		for _, x := range h.hashes {
			x.Write(p[:n])
		}
	}
	return n, err
}
