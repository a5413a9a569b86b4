package openstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func standalone(t *testing.T, f *fakeCloud, retry RetryPolicy) *Cloud {
	t.Helper()
	f.requireToken = false
	c, err := Connect(context.Background(), Options{AuthType: "none", Auth: Auth{Endpoint: f.url("/baremetal")}, Retry: retry})
	require.NoError(t, err)
	return c
}

func TestMicroversionNegotiation(t *testing.T) {
	tests := []struct {
		name             string
		serverMin, srvMx string
		cap              string
		want             string
		err              string
	}{
		{"server newer than us: our cap", "1.1", "1.95", "", BaremetalMicroversion, ""},
		{"server older than us: its max", "1.1", "1.78", "", "1.78", ""},
		{"custom cap", "1.1", "1.82", "1.65", "1.65", ""},
		{"server needs newer than we know", "1.90", "1.95", "", "", "server needs microversion 1.90 or later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			f.requireToken = false
			f.ironicMin, f.ironicMax = tt.serverMin, tt.srvMx
			c, err := Connect(context.Background(), Options{AuthType: "none", Auth: Auth{Endpoint: f.url("/baremetal")}, BaremetalMicroversion: tt.cap})
			require.NoError(t, err)
			bm, err := c.Baremetal(context.Background())
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, bm.Microversion)
			_, err = nodes.List(bm, nil).AllPages(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tt.want, f.lastHeader("GET /baremetal/v1/nodes", "X-OpenStack-Ironic-API-Version"))
		})
	}
}

// One discovery per process, however many connections and clients.
func TestMicroversionCachedPerProcess(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	f.requireToken = false
	for range 3 {
		c, err := Connect(context.Background(), Options{AuthType: "none", Auth: Auth{Endpoint: f.url("/baremetal")}})
		require.NoError(t, err)
		for range 2 {
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "1.82", bm.Microversion)
		}
	}
	assert.Equal(t, 1, f.count("GET /baremetal/"))

	f.requireToken = true
	for range 2 {
		c, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: "pw"}})
		require.NoError(t, err)
		cc, err := c.Compute(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "2.93", cc.Microversion)
	}
	assert.Equal(t, 1, f.count("GET /compute/v2.1/"))
}

// Ironic's /v1 tells its range in headers: used when the root has no document.
func TestMicroversionFromIronicHeaders(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/baremetal/", "/baremetal":
			writeJSON(w, 404, map[string]any{})
			return true
		case "/baremetal/v1/":
			w.Header().Set("X-OpenStack-Ironic-API-Minimum-Version", "1.1")
			w.Header().Set("X-OpenStack-Ironic-API-Maximum-Version", "1.80")
			writeJSON(w, 200, map[string]any{"id": "v1"})
			return true
		}
		return false
	}
	f.requireToken = false
	c, err := Connect(context.Background(), Options{AuthType: "none", Auth: Auth{Endpoint: f.url("/baremetal/v1")}})
	require.NoError(t, err)
	bm, err := c.Baremetal(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "1.80", bm.Microversion)
}

// An expired token is renewed once, transparently (password auth).
func TestReauthOn401(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	c, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: "pw", ProjectName: "admin"}})
	require.NoError(t, err)
	listNodes(t, c)
	f.expireTokens()
	assert.Len(t, listNodes(t, c), 1)
	assert.Equal(t, 2, f.count("POST /identity/v3/auth/tokens"))
}

// A token cannot renew itself: the 401 surfaces, described.
func TestTokenAuthNoReauth(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	c, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Token: "tok-preissued"}})
	require.NoError(t, err)
	bm, err := c.Baremetal(context.Background())
	require.NoError(t, err)
	f.expireTokens()
	_, err = nodes.List(bm, nil).AllPages(context.Background())
	require.Error(t, err)
	assert.Contains(t, Describe(err, "nodes").Error(), "(HTTP 401)")
}

func TestRetryTransientFailures(t *testing.T) {
	locked := `{"error_message": "{\"faultstring\": \"Node node-0 is locked by host ctl, please retry after the current operation is completed.\", \"debuginfo\": null}"}`
	tests := []struct {
		name      string
		method    string
		failures  int // failing answers before success (-1: always)
		status    int
		body      string
		policy    RetryPolicy
		wantCalls int
		wantErr   string
		reason    string
	}{
		{"409 NodeLocked then success", "GET", 2, 409, locked, fastRetry, 3, "", ""},
		{"503 then success", "GET", 2, 503, `{"error_message": "{\"faultstring\": \"down\"}"}`, fastRetry, 3, "", ""},
		{"409 on POST is retried too", "POST", 1, 409, locked, fastRetry, 2, "", ""},
		{"409 duplicate is permanent", "POST", -1, 409, `{"error_message": "{\"faultstring\": \"A node with name node-0 already exists.\"}"}`, fastRetry, 1, "already exists. (HTTP 409)", ""},
		{"404 is not retried", "GET", -1, 404, `{"error_message": "{\"faultstring\": \"gone\"}"}`, fastRetry, 1, "gone (HTTP 404)", ""},
		{"502 on POST is not retried", "POST", -1, 502, `bad gateway`, fastRetry, 1, "(HTTP 502)", ""},
		{"502 on GET is retried", "GET", 1, 502, `bad gateway`, fastRetry, 2, "", ""},
		{"attempt limit", "GET", -1, 409, locked, RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}, 4,
			"node n: Node node-0 is locked by host ctl, please retry after the current operation is completed. (HTTP 409, after 4 attempts)", "attempt limit reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			var calls atomic.Int32
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/baremetal/v1/nodes" {
					return false
				}
				drain(r)
				n := int(calls.Add(1))
				if tt.failures < 0 || n <= tt.failures {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, tt.body)
					return true
				}
				status := 200
				if r.Method == "POST" {
					status = 201
				}
				writeJSON(w, status, map[string]any{"nodes": []any{}, "uuid": "u", "name": "node-0"})
				return true
			}
			c := standalone(t, f, tt.policy)
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			if tt.method == "GET" {
				_, err = nodes.List(bm, nil).AllPages(context.Background())
			} else {
				_, err = nodes.Create(context.Background(), bm, nodes.CreateOpts{Name: "node-0", Driver: "fake-hardware"}).Extract()
			}
			assert.Equal(t, tt.wantCalls, int(calls.Load()))
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			d := Describe(err, "node n")
			assert.Contains(t, d.Error(), tt.wantErr)
			assert.True(t, gophercloud.ResponseCodeIs(d, tt.status), "status survives Describe")
			if tt.reason != "" {
				var ex *RetriesExhaustedError
				require.ErrorAs(t, d, &ex)
				assert.Equal(t, tt.reason, ex.Reason)
			}
		})
	}
}

// novaFault is what Nova answers when its (sqlite) database is busy.
const novaFault = `{"computeFault": {"code": 500, "message": "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'sqlalchemy.exc.OperationalError'>"}}`

// novaFaultMessage is how Describe tells it (whitespace folded).
const novaFaultMessage = "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible. <class 'sqlalchemy.exc.OperationalError'>"

// A 500 is retried for idempotent methods only, fewer times than the
// policy allows, and a permanent one reaches the caller as it did before
// (the service's message, HTTP 500), plus the attempts.
func TestRetryServerErrors(t *testing.T) {
	const id = "0000000a-aaaa-4bbb-8ccc-000000000000"
	tests := []struct {
		name      string
		method    string
		answers   []int // the first answers' statuses
		then      int   // the status of every later answer (0: success)
		policy    RetryPolicy
		wantCalls int
		wantCode  int    // 0: success
		wantText  string // the Describe text
		exhausted bool
	}{
		{"GET 500, 500, 200", "GET", []int{500, 500}, 0, fastRetry, 3, 0, "", false},
		{"PUT 500 is not retried (a provision PUT may have acted)", "PUT", nil, 500, fastRetry, 1, 500, "server s: " + novaFaultMessage + " (HTTP 500)", false},
		{"POST 500 is not retried", "POST", nil, 500, fastRetry, 1, 500, "server s: " + novaFaultMessage + " (HTTP 500)", false},
		{"permanent 500: the same error after the cap", "GET", nil, 500, fastRetry, serverErrorAttempts, 500,
			"server s: " + novaFaultMessage + " (HTTP 500, after 5 attempts)", true},
		{"a smaller policy bounds 500s too", "GET", nil, 500, RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}, 3, 500,
			"server s: " + novaFaultMessage + " (HTTP 500, after 3 attempts)", true},
		// The first DELETE went through before Nova failed: the retry finds
		// nothing, and the caller sees the 404 it takes as "already gone".
		{"DELETE 500 then 404", "DELETE", []int{500}, 404, fastRetry, 2, 404, "server s: Instance " + id + " could not be found. (HTTP 404)", false},
		{"DELETE 500 then 204", "DELETE", []int{500}, 0, fastRetry, 2, 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			f.requireToken = false
			var calls atomic.Int32
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasPrefix(r.URL.Path, "/compute/v2.1/servers") {
					return false
				}
				drain(r)
				n := int(calls.Add(1))
				status := tt.then
				if n <= len(tt.answers) {
					status = tt.answers[n-1]
				}
				switch status {
				case 500:
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(500)
					_, _ = io.WriteString(w, novaFault)
				case 404:
					writeJSON(w, 404, map[string]any{"itemNotFound": map[string]any{"code": 404, "message": "Instance " + id + " could not be found."}})
				default:
					switch r.Method {
					case "DELETE":
						w.WriteHeader(204)
					case "POST":
						writeJSON(w, 202, map[string]any{"server": map[string]any{"id": id}})
					default:
						writeJSON(w, 200, map[string]any{"server": map[string]any{"id": id, "name": "s", "status": "ACTIVE"}})
					}
				}
				return true
			}
			c, err := Connect(context.Background(), Options{CloudConfig: map[string]any{"auth_type": "none",
				"auth": map[string]any{"endpoint": f.url("/baremetal")}, "compute_endpoint_override": f.url("/compute/v2.1")}, Retry: tt.policy})
			require.NoError(t, err)
			nova, err := c.Compute(context.Background())
			require.NoError(t, err)
			ctx := context.Background()
			switch tt.method {
			case "GET":
				_, err = servers.Get(ctx, nova, id).Extract()
			case "PUT":
				_, err = servers.Update(ctx, nova, id, servers.UpdateOpts{Name: "s"}).Extract()
			case "POST":
				_, err = servers.Create(ctx, nova, servers.CreateOpts{Name: "s", FlavorRef: "f", ImageRef: "i"}, nil).Extract()
			case "DELETE":
				err = servers.Delete(ctx, nova, id).ExtractErr()
			}
			assert.Equal(t, tt.wantCalls, int(calls.Load()), "requests sent")
			if tt.wantCode == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, gophercloud.ResponseCodeIs(err, tt.wantCode), "the status reaches the caller: %v", err)
			d := Describe(err, "server s")
			assert.Equal(t, tt.wantText, d.Error())
			var ae *APIError
			require.ErrorAs(t, d, &ae)
			assert.Equal(t, tt.wantCode, ae.StatusCode)
			var ex *RetriesExhaustedError
			assert.Equal(t, tt.exhausted, errors.As(d, &ex))
			if tt.exhausted {
				assert.Equal(t, "attempt limit reached", ex.Reason)
				assert.Equal(t, novaFaultMessage, ae.Message, "the service's message, as without retries")
			}
		})
	}
}

// The context deadline bounds the retries, whatever the attempt limit, and
// reads as retries that ran out of time whether it falls in the wait before
// a retry or while a retried request is in flight.
func TestRetryStopsAtDeadline(t *testing.T) {
	tests := []struct {
		name         string
		holdAfter    int32 // answer 503 this many times, then hold requests until the client gives up (0: never hold)
		policy       RetryPolicy
		timeout      time.Duration
		wantAttempts uint // 0: any number below the policy's
	}{
		{"during the waits", 0, RetryPolicy{MaxAttempts: 100000, BaseDelay: 5 * time.Millisecond, MaxDelay: 10 * time.Millisecond}, 100 * time.Millisecond, 0},
		{"during a retried request", 1, RetryPolicy{MaxAttempts: 10, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}, 300 * time.Millisecond, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			var calls atomic.Int32
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/baremetal/v1/nodes" {
					return false
				}
				if n := calls.Add(1); tt.holdAfter > 0 && n > tt.holdAfter {
					<-r.Context().Done()
					return true
				}
				writeJSON(w, 503, map[string]any{})
				return true
			}
			c := standalone(t, f, tt.policy)
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			bm, err := c.Baremetal(ctx)
			require.NoError(t, err)
			_, err = nodes.List(bm, nil).AllPages(ctx)
			var ex *RetriesExhaustedError
			require.ErrorAs(t, err, &ex)
			assert.Equal(t, "time budget spent", ex.Reason)
			if tt.wantAttempts > 0 {
				assert.ErrorIs(t, err, context.DeadlineExceeded, "a request cut short: callers still see the deadline")
				assert.Equal(t, tt.wantAttempts, ex.Attempts)
				assert.Equal(t, int32(tt.wantAttempts), calls.Load())
			} else {
				assert.Less(t, int(ex.Attempts), tt.policy.MaxAttempts)
			}
		})
	}
}

// firstNodesCallFails answers the first /v1/nodes call with first, and the
// later ones as Ironic would; it counts the calls.
func firstNodesCallFails(t *testing.T, f *fakeCloud, first func(w http.ResponseWriter, r *http.Request)) *atomic.Int32 {
	t.Helper()
	var calls atomic.Int32
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/baremetal/v1/nodes" {
			return false
		}
		drain(r)
		if calls.Add(1) == 1 {
			first(w, r)
			return true
		}
		status := 200
		if r.Method == "POST" {
			status = 201
		}
		writeJSON(w, status, map[string]any{"nodes": []any{map[string]any{"uuid": "u-1", "name": "node-1"}}, "uuid": "u-1", "name": "node-1"})
		return true
	}
	return &calls
}

// A response slower than api_timeout is one request's timeout, not the
// task's: a GET is tried again (Go's header timeout matches
// context.DeadlineExceeded, which once read as "the task is out of time"),
// a POST is not (it may have acted).
func TestRetryResponseHeaderTimeout(t *testing.T) {
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			f.requireToken = false
			calls := firstNodesCallFails(t, f, func(_ http.ResponseWriter, r *http.Request) {
				<-r.Context().Done() // held until the client gives up
			})
			c, err := Connect(context.Background(), Options{AuthType: "none", Auth: Auth{Endpoint: f.url("/baremetal")},
				Retry: fastRetry, APITimeout: 200 * time.Millisecond})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			bm, err := c.Baremetal(ctx)
			require.NoError(t, err)
			if method == "GET" {
				_, err = nodes.List(bm, nil).AllPages(ctx)
				require.NoError(t, err)
				assert.Equal(t, int32(2), calls.Load())
			} else {
				_, err = nodes.Create(ctx, bm, nodes.CreateOpts{Name: "n"}).Extract()
				require.Error(t, err)
				assert.Contains(t, err.Error(), "timeout awaiting response headers")
				assert.Equal(t, int32(1), calls.Load())
			}
			assert.NoError(t, ctx.Err())
		})
	}
}

// A streamed body is rewound before it is sent again; one that cannot
// rewind is not retried.
func TestRetryRewindsBody(t *testing.T) {
	payload := bytes.Repeat([]byte("rhcos"), 1000)
	tests := []struct {
		name      string
		body      func() io.Reader
		wantCalls int
		wantOK    bool
	}{
		{"seekable", func() io.Reader { return bytes.NewReader(payload) }, 2, true},
		{"not seekable", func() io.Reader { return io.MultiReader(bytes.NewReader(payload)) }, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			var calls atomic.Int32
			var got []byte
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/image/v2/images/i/file" {
					return false
				}
				b, _ := io.ReadAll(r.Body)
				if calls.Add(1) == 1 {
					writeJSON(w, 503, map[string]any{})
					return true
				}
				got = b
				w.WriteHeader(204)
				return true
			}
			f.requireToken = false
			c, err := Connect(context.Background(), Options{CloudConfig: map[string]any{"auth_type": "none", "image_endpoint_override": f.url("/image"), "auth": map[string]any{"endpoint": f.url("/baremetal")}}, Retry: fastRetry})
			require.NoError(t, err)
			ic, err := c.Image(context.Background())
			require.NoError(t, err)
			_, err = ic.Put(context.Background(), ic.ServiceURL("images", "i", "file"), nil, nil, &gophercloud.RequestOpts{RawBody: tt.body(), OkCodes: []int{204}})
			assert.Equal(t, tt.wantCalls, int(calls.Load()))
			if tt.wantOK {
				require.NoError(t, err)
				assert.Equal(t, payload, got)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// A connection reset mid-request is retried for idempotent methods only.
func TestRetryConnectionReset(t *testing.T) {
	tests := []struct {
		method    string
		wantCalls int
		wantOK    bool
	}{
		{"GET", 3, true},
		{"POST", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			var calls atomic.Int32
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/baremetal/v1/nodes" {
					return false
				}
				drain(r)
				if calls.Add(1) <= 2 {
					resetConnection(t, w)
					return true
				}
				writeJSON(w, 200, map[string]any{"nodes": []any{}})
				return true
			}
			c := standalone(t, f, fastRetry)
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			if tt.method == "GET" {
				_, err = nodes.List(bm, nil).AllPages(context.Background())
			} else {
				_, err = nodes.Create(context.Background(), bm, nodes.CreateOpts{Name: "n"}).Extract()
			}
			assert.Equal(t, tt.wantCalls, int(calls.Load()))
			if tt.wantOK {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// resetConnection aborts the TCP connection with an RST.
func resetConnection(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	require.NoError(t, err)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// A service that is not listening yet (restarting) is waited for.
func TestRetryConnectionRefused(t *testing.T) {
	isolate(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	f := newFakeCloud(t)
	f.requireToken = false
	var started atomic.Bool
	retry := RetryPolicy{MaxAttempts: 50, BaseDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond}
	c, err := Connect(context.Background(), Options{AuthType: "none", Auth: Auth{Endpoint: "http://" + addr + "/baremetal"}, Retry: retry})
	require.NoError(t, err)
	// Bring the service up after the first refusal.
	c.Provider.RetryFunc = func(ctx context.Context, method, u string, o *gophercloud.RequestOpts, err error, n uint) error {
		if !started.Swap(true) {
			srv := httptest.NewUnstartedServer(f.srv.Config.Handler)
			ln, lerr := net.Listen("tcp", addr)
			require.NoError(t, lerr)
			srv.Listener = ln
			srv.Start()
			t.Cleanup(srv.Close)
		}
		r := &retrier{policy: retry.withDefaults()}
		return r.retry(ctx, method, u, o, err, n)
	}
	bm, err := c.Baremetal(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "1.82", bm.Microversion)
	assert.True(t, started.Load())

	// Nobody listening, ever: refused after the attempt limit.
	c2, err := Connect(context.Background(), Options{AuthType: "none", Auth: Auth{Endpoint: "http://127.0.0.1:1/"}, Retry: RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond}})
	require.NoError(t, err)
	_, err = c2.Baremetal(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connection refused")
	var ex *RetriesExhaustedError
	require.ErrorAs(t, err, &ex)
	assert.Equal(t, uint(3), ex.Attempts)
}

func TestTransientClassification(t *testing.T) {
	opErr := func(errno error) error {
		return &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}}
	}
	code := func(status int, body string) error {
		return gophercloud.ErrUnexpectedResponseCode{Actual: status, Body: []byte(body)}
	}
	tests := []struct {
		name   string
		method string
		err    error
		want   bool
	}{
		{"refused POST", "POST", opErr(syscall.ECONNREFUSED), true},
		{"reset GET", "GET", opErr(syscall.ECONNRESET), true},
		{"reset PATCH", "PATCH", opErr(syscall.ECONNRESET), false},
		{"EOF DELETE", "DELETE", &url.Error{Op: "Delete", URL: "u", Err: io.EOF}, true},
		// retry asks only while the task's context is alive: a deadline
		// here is one request's (api_timeout, the dial timeout).
		{"request deadline GET", "GET", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"request deadline POST", "POST", fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{"dial timeout POST", "POST", &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("i/o timeout: %w", context.DeadlineExceeded)}}, true},
		{"canceled", "GET", context.Canceled, false},
		{"409 locked", "PATCH", code(409, `{"error_message": "{\"faultstring\": \"Node x is locked by host y\"}"}`), true},
		{"409 MAC exists", "POST", code(409, `{"error_message": "{\"faultstring\": \"A port with MAC address 52:54:00:00:00:01 already exists.\"}"}`), false},
		{"409 associated", "DELETE", code(409, `{"error_message": "{\"faultstring\": \"Node n is associated with instance i.\"}"}`), false},
		{"503", "POST", code(503, ""), true},
		{"500 GET", "GET", code(500, ""), true},
		{"500 HEAD", "HEAD", code(500, ""), true},
		{"500 PUT", "PUT", code(500, ""), false},
		{"500 DELETE", "DELETE", code(500, ""), true},
		{"500 OPTIONS", "OPTIONS", code(500, ""), true},
		{"500 POST", "POST", code(500, ""), false},
		{"500 PATCH", "PATCH", code(500, ""), false},
		{"501", "GET", code(501, ""), false},
		{"504 GET", "GET", code(504, ""), true},
		{"plain error", "GET", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := transient(tt.method, tt.err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// Backoff grows, stays under MaxDelay, and honours Retry-After.
func TestBackoff(t *testing.T) {
	r := &retrier{policy: RetryPolicy{MaxAttempts: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}}
	for n := uint(1); n < 10; n++ {
		step := min(100*time.Millisecond<<(n-1), time.Second)
		d := r.backoff(n, errors.New("x"))
		assert.GreaterOrEqual(t, d, step/2, "attempt %d", n)
		assert.LessOrEqual(t, d, step, "attempt %d", n)
	}
	withHeader := gophercloud.ErrUnexpectedResponseCode{Actual: 503, ResponseHeader: http.Header{"Retry-After": {"5"}}}
	assert.Equal(t, time.Second, r.backoff(1, withHeader), "Retry-After, capped at MaxDelay")
}

// clouds.yaml's status_code_retries (keystoneauth's name) bounds the tries:
// 2 retries is 3 attempts; a value that is no count is refused by name.
func TestStatusCodeRetriesFromCloudConfig(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	var calls atomic.Int32
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/baremetal/v1/nodes" {
			return false
		}
		calls.Add(1)
		writeJSON(w, 503, map[string]any{"error_message": `{"faultstring": "down"}`})
		return true
	}
	cloud := func(retries any) Options {
		return Options{CloudConfig: map[string]any{"auth_type": "none", "auth": map[string]any{"endpoint": f.url("/baremetal")},
			"status_code_retries": retries}, Retry: RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}}
	}
	c, err := Connect(context.Background(), cloud(2))
	require.NoError(t, err)
	bm, err := c.Baremetal(context.Background())
	require.NoError(t, err)
	_, err = nodes.List(bm, nil).AllPages(context.Background())
	require.Error(t, err)
	assert.EqualValues(t, 3, calls.Load())
	assert.Contains(t, Describe(err, "nodes").Error(), "after 3 attempts")

	for _, bad := range []any{"many", -1, 101} {
		_, err := Connect(context.Background(), cloud(bad))
		require.Error(t, err, "%v", bad)
		assert.Contains(t, err.Error(), "status_code_retries")
	}
}

// A GET whose body is cut after the headers (a reset mid-list) is read
// again: the transport reads a GET's body whole, so the cut is the
// request's error, which the retry policy sees. A POST's is not repeated.
func TestBodyCutMidwayIsRetriedForGET(t *testing.T) {
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			calls := firstNodesCallFails(t, f, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "4000")
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, `{"nodes": [{"uuid": "u-1", "name": "node-`)
				http.NewResponseController(w).Flush()
				resetConnection(t, w)
			})
			c := standalone(t, f, fastRetry)
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			if method == "GET" {
				pages, err := nodes.List(bm, nil).AllPages(context.Background())
				require.NoError(t, err)
				list, err := nodes.ExtractNodes(pages)
				require.NoError(t, err)
				assert.Len(t, list, 1)
				assert.EqualValues(t, 2, calls.Load())
				assert.Equal(t, map[string]int{"connection reset": 1}, Retries())
				return
			}
			_, err = nodes.Create(context.Background(), bm, nodes.CreateOpts{Name: "node-1", Driver: "fake-hardware"}).Extract()
			assert.Error(t, err, "a POST may have acted: never sent twice")
			assert.EqualValues(t, 1, calls.Load())
		})
	}
}
