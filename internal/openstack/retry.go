package openstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/metalkit/baremetal/internal/poll"
)

// RetriesExhaustedError wraps the last transient failure when the retry
// policy or the time budget ran out.
type RetriesExhaustedError struct {
	Err      error
	Attempts uint
	// Reason says which bound stopped the retries.
	Reason string
}

func (e *RetriesExhaustedError) Error() string {
	return fmt.Sprint(e.Err) + e.suffix()
}

func (e *RetriesExhaustedError) suffix() string {
	return fmt.Sprintf(" (gave up after %d attempts: %s)", e.Attempts, e.Reason)
}

func (e *RetriesExhaustedError) Unwrap() error { return e.Err }

// permanentConflict matches 409s that no wait will cure (Ironic
// DuplicateName, MACAlreadyExists, NodeAssociated; Glance duplicate image).
var permanentConflict = regexp.MustCompile(`(?i)already exists|duplicate|already associated|is associated with|already in use`)

// serverErrorAttempts caps the tries on a 500, below MaxAttempts: Nova on a
// busy (sqlite) database answers 500 for a moment, a bug answers it for
// ever, and the operator should not wait the whole policy to hear about the
// second. With the default 1 s base that is 7.5 to 15 s of waiting.
const serverErrorAttempts = 5

// retrier is the ProviderClient.RetryFunc: transient failures are retried
// with equal-jitter exponential backoff, within MaxAttempts (fewer for a
// 500) and before the earliest of the context deadline and the task budget.
//
// A failure that reaches the caller after retries is a *RetriesExhaustedError
// wrapping the last one, so gophercloud.ResponseCodeIs and Describe still see
// the service's status and message. A retried DELETE whose first try did act
// (a 500 after the commit) ends in 404: every caller that deletes takes a 404
// as "already gone", which covers this too.
type retrier struct {
	policy RetryPolicy
	budget time.Time // zero: no task budget
}

func (r *retrier) retry(ctx context.Context, method, url string, opts *gophercloud.RequestOpts, err error, failCount uint) error {
	if ctx.Err() != nil {
		if failCount > 1 {
			// The context ended during a retry, not during the wait before
			// it: still say that retries happened and what stopped them.
			return &RetriesExhaustedError{Err: err, Attempts: failCount, Reason: stopReason(ctx.Err())}
		}
		return err
	}
	why, ok := transient(method, err)
	if !ok {
		return err
	}
	limit := uint(r.policy.MaxAttempts)
	if gophercloud.ResponseCodeIs(err, http.StatusInternalServerError) {
		limit = min(limit, serverErrorAttempts)
	}
	if failCount >= limit {
		return &RetriesExhaustedError{Err: err, Attempts: failCount, Reason: "attempt limit reached"}
	}
	if opts != nil && opts.RawBody != nil {
		// A streamed body can be sent again only if it rewinds.
		s, ok := opts.RawBody.(io.Seeker)
		if !ok {
			return err
		}
		if _, serr := s.Seek(0, io.SeekStart); serr != nil {
			return err
		}
	}
	delay := r.backoff(failCount, err)
	deadline := r.budget
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	if !deadline.IsZero() && time.Now().Add(delay).After(deadline) {
		return &RetriesExhaustedError{Err: err, Attempts: failCount, Reason: "time budget spent"}
	}
	slog.Debug("openstack: retrying", "method", method, "url", url, "reason", why, "attempt", failCount, "delay", delay)
	countRetry(why)
	if perr := poll.Sleep(ctx, delay); perr != nil {
		return &RetriesExhaustedError{Err: err, Attempts: failCount, Reason: stopReason(perr)}
	}
	return nil
}

// stopReason names the bound that ended the retries when the context did:
// its deadline is the time budget, whether it fell in a wait or a request.
func stopReason(ctxErr error) string {
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		return "time budget spent"
	}
	return ctxErr.Error()
}

// backoff is equal jitter: half the exponential step fixed, half random, so
// parallel workers hitting the same locked node spread out; a Retry-After
// header lengthens it (up to MaxDelay).
func (r *retrier) backoff(failCount uint, err error) time.Duration {
	step := r.policy.BaseDelay
	for i := uint(1); i < failCount && step < r.policy.MaxDelay; i++ {
		step *= 2
	}
	step = min(step, r.policy.MaxDelay)
	d := step/2 + time.Duration(rand.Int64N(int64(step/2)+1))
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) && code.ResponseHeader != nil {
		if s, perr := strconv.Atoi(code.ResponseHeader.Get("Retry-After")); perr == nil && s > 0 {
			d = max(d, min(time.Duration(s)*time.Second, r.policy.MaxDelay))
		}
	}
	return d
}

// transient says whether err, a failure while the task's context is still
// alive, is worth another try, and why.
func transient(method string, err error) (string, bool) {
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		switch code.Actual {
		case http.StatusConflict:
			if permanentConflict.MatchString(ServiceMessage(code.Body, code.Actual)) {
				return "", false
			}
			return "409 conflict", true
		case http.StatusServiceUnavailable:
			return "503 unavailable", true
		case http.StatusInternalServerError:
			// Nova's "Unexpected API Error" on a busy database. The service
			// may have acted before failing: only repeat reads and deletes.
			// Not PUT: Ironic's provision and power PUTs start actions, and a
			// repeat after one that acted answers 400 "cannot be performed in
			// state ...", hiding the first error.
			return "500 server error", idempotent(method) && method != http.MethodPut
		case http.StatusBadGateway, http.StatusGatewayTimeout:
			// A proxy's answer: the service may or may not have acted.
			return fmt.Sprintf("%d from a proxy", code.Actual), idempotent(method)
		}
		return "", false
	}
	if errors.Is(err, context.Canceled) {
		return "", false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// Go's dial and response-header timeouts match DeadlineExceeded too;
		// retry calls this only while the task's own context is alive, so
		// here it is one request's bound, not the task's.
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return "connect timed out", true // nothing was sent
		}
		return "request timed out", idempotent(method)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		// Nothing was sent: safe whatever the method.
		return "connection refused", true
	}
	if ConnectionLost(err) {
		// The request may have been acted on: only repeat what is idempotent.
		return "connection reset", idempotent(method)
	}
	return "", false
}

// ConnectionLost tells whether a request failed after it may have reached
// the service (the connection was reset or closed before the answer): a
// POST or PATCH may or may not have been acted on.
func ConnectionLost(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) // "use of closed network connection": closed on a reset mid-write
}

// idempotent methods may be sent twice: HTTP's list, not POST or PATCH.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}
