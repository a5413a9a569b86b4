// Package poll is the one way a module waits: for a node, a server or an
// image to reach a state (Until), or before trying again (Sleep). Both
// end as soon as the context does, so a deadline or a signal is never
// waited out.
package poll

import (
	"context"
	"time"
)

// Backoff is how often Until looks.
type Backoff struct {
	// First is the first interval (default 200 ms).
	First time.Duration
	// Max caps the interval (default First: a fixed interval).
	Max time.Duration
	// Growth multiplies the interval after each look (default 1: fixed).
	Growth float64
	// WaitFirst waits one interval before the first look: the wait follows
	// a write, and a look at once would only see the old state.
	WaitFirst bool
	// LateMax, when set, replaces Max once the wait has lasted LateAfter:
	// a long wait (a real deploy) need not keep a fast pace.
	LateMax   time.Duration
	LateAfter time.Duration
}

// Until calls look until it reports done or an error, or ctx ends; then it
// returns ctx's error (context.DeadlineExceeded or context.Canceled).
func Until(ctx context.Context, b Backoff, look func(ctx context.Context) (done bool, err error)) error {
	interval := b.First
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	start := time.Now()
	if b.WaitFirst {
		if err := Sleep(ctx, interval); err != nil {
			return err
		}
	}
	for {
		done, err := look(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil || done {
			return err
		}
		if err := Sleep(ctx, interval); err != nil {
			return err
		}
		interval = b.next(interval, time.Since(start))
	}
}

func (b Backoff) next(interval, elapsed time.Duration) time.Duration {
	limit := max(b.Max, b.First)
	if b.LateMax > 0 && elapsed >= b.LateAfter {
		limit = b.LateMax
	}
	if b.Growth > 1 {
		interval = time.Duration(float64(interval) * b.Growth)
	}
	if limit > 0 {
		interval = min(interval, limit)
	}
	return interval
}

// Sleep waits d, or less when ctx ends first (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
