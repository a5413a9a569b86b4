package secret

import (
	"bytes"
	"io"
	"sync"
)

// Writer scrubs what is written through it, a line at a time, so that a
// secret is masked even when it arrives in two writes of the same line.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer that writes scrubbed lines to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

func (s *Writer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			break
		}
		if _, err := io.WriteString(s.w, Scrub(string(s.buf[:i+1]))); err != nil {
			return len(p), err
		}
		s.buf = s.buf[i+1:]
	}
	// A line longer than this is scrubbed in pieces rather than held.
	if len(s.buf) > 1<<20 {
		return len(p), s.flushLocked()
	}
	return len(p), nil
}

// Flush writes what is held of an unfinished line.
func (s *Writer) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

func (s *Writer) flushLocked() error {
	if len(s.buf) == 0 {
		return nil
	}
	_, err := io.WriteString(s.w, Scrub(string(s.buf)))
	s.buf = s.buf[:0]
	return err
}
