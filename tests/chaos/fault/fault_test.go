package fault

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pattern yields n deterministic bytes without holding them.
type pattern struct{ n, off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rest := p.n - p.off; int64(len(b)) > rest {
		b = b[:rest]
	}
	for i := range b {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func patternSum(n int64) [32]byte {
	h := sha256.New()
	_, _ = io.Copy(h, &pattern{n: n})
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// upload is what the service read of one request body.
type upload struct {
	n   int64
	sum [32]byte
	err error
}

// upstream is the stand-in for an OpenStack service.
type upstream struct {
	*httptest.Server
	mu      sync.Mutex
	uploads []upload
	hosts   []string
}

// whole returns the uploads that the service read to their end.
func (s *upstream) whole() []upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	var w []upload
	for _, u := range s.uploads {
		if u.err == nil {
			w = append(w, u)
		}
	}
	return w
}

// newUpstream serves GET /bytes/N (N pattern bytes), PUT /upload (hashes the
// body), GET /redirect (a 302 to elsewhere), GET /echo (the request's
// Host, raw query and X-Forwarded-For as JSON) and GET /status/CODE.
func newUpstream(t *testing.T) *upstream {
	s := &upstream{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseInt(r.PathValue("n"), 10, 64)
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		_, _ = io.Copy(w, &pattern{n: n})
	})
	mux.HandleFunc("PUT /upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		u := upload{n: n, err: err}
		copy(u.sum[:], h.Sum(nil))
		s.mu.Lock()
		s.uploads = append(s.uploads, u)
		s.mu.Unlock()
		if err != nil {
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, n)
	})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://192.0.2.1/elsewhere")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("GET /status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"host": r.Host, "query": r.URL.RawQuery, "xff": r.Header["X-Forwarded-For"],
		})
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// setup starts a service behind a new layer as "svc" and returns both and
// a client of its own (keep-alive, no proxy from the environment, follows
// no redirect).
func setup(t *testing.T) (*Layer, *upstream, *http.Client) {
	svc := newUpstream(t)
	l := New()
	t.Cleanup(l.Close)
	_, err := l.Add("svc", svc.Listener.Addr().String())
	require.NoError(t, err)
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return l, svc, c
}

// get GETs url and returns status and body (or the error reading it).
func get(c *http.Client, url string) (int, []byte, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// put PUTs n pattern bytes to base's /upload.
func put(c *http.Client, base string, n int64) (int, error) {
	req, err := http.NewRequest(http.MethodPut, base+"/upload", &pattern{n: n})
	if err != nil {
		return 0, err
	}
	req.ContentLength = n
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

func patternBytes(n int64) []byte {
	b, _ := io.ReadAll(&pattern{n: n})
	return b
}

func TestPassThrough(t *testing.T) {
	l, _, c := setup(t)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, l.URL("svc"))

	code, body, err := get(c, l.URL("svc")+"/bytes/100000")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, patternBytes(100000), body)

	// Redirects come back as they are: not followed, Location untouched.
	resp, err := c.Get(l.URL("svc") + "/redirect")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, "http://192.0.2.1/elsewhere", resp.Header.Get("Location"))

	// The service sees the client's Host, raw query and forwarding headers.
	req, _ := http.NewRequest(http.MethodGet, l.URL("svc")+"/echo?a=1;b=%zz", nil)
	req.Header.Set("X-Forwarded-For", "192.0.2.7")
	resp, err = c.Do(req)
	require.NoError(t, err)
	var echo struct {
		Host, Query string
		Xff         []string
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&echo))
	resp.Body.Close()
	assert.Equal(t, l.URL("svc"), "http://"+echo.Host)
	assert.Equal(t, "a=1;b=%zz", echo.Query)
	assert.Equal(t, []string{"192.0.2.7"}, echo.Xff)

	assert.Equal(t, Stats{Requests: 3}, l.Stats("svc"))
	assert.Empty(t, l.Active("svc"))
}

// The service's own 401 and 5xx answers are counted apart from the burst's.
func TestServiceAnswersCounted(t *testing.T) {
	l, _, c := setup(t)
	require.NoError(t, l.Burst5xx("svc", http.StatusServiceUnavailable, 1))
	for _, code := range []int{503, 401, 401, 500, 502, 200, 404} {
		_, _, err := get(c, fmt.Sprintf("%s/status/%d", l.URL("svc"), code))
		require.NoError(t, err)
	}
	assert.Equal(t, Stats{Requests: 7, Answered5xx: 1, Unauthorized: 2, ServiceFailed: 2}, l.Stats("svc"))
}

func TestConcurrentKeepAlive(t *testing.T) {
	l, _, c := setup(t)
	want := patternBytes(64 << 10)
	var wg sync.WaitGroup
	errs := make(chan error, 32*10)
	for range 32 {
		wg.Go(func() {
			for range 10 {
				code, body, err := get(c, l.URL("svc")+"/bytes/65536")
				if err == nil && (code != http.StatusOK || !bytes.Equal(body, want)) {
					err = fmt.Errorf("status %d, %d bytes", code, len(body))
				}
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 320, l.Stats("svc").Requests)
}

func TestLatency(t *testing.T) {
	l, _, c := setup(t)
	const d = 150 * time.Millisecond
	require.NoError(t, l.Latency("svc", d, 0))
	assert.Equal(t, []string{"latency_downstream", "latency_upstream"}, l.Active("svc"))

	start := time.Now()
	_, _, err := get(c, l.URL("svc")+"/bytes/10")
	require.NoError(t, err)
	// One way each: the request and then the response wait d.
	assert.GreaterOrEqual(t, time.Since(start), 2*d)

	require.NoError(t, l.Clear("svc"))
	assert.Empty(t, l.Active("svc"))
	_, _, err = get(c, l.URL("svc")+"/bytes/10")
	require.NoError(t, err)
}

func TestBandwidth(t *testing.T) {
	l, svc, c := setup(t)
	require.NoError(t, l.Bandwidth("svc", 200)) // 200 KB/s each way
	const n = 200_000                           // a second's worth

	start := time.Now()
	_, body, err := get(c, l.URL("svc")+"/bytes/200000")
	require.NoError(t, err)
	assert.Len(t, body, n)
	assert.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond)

	start = time.Now()
	code, err := put(c, l.URL("svc"), n)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond)
	assert.Len(t, svc.whole(), 1)

	require.NoError(t, l.Clear("svc"))
	assert.Empty(t, l.Active("svc"))
	_, body, err = get(c, l.URL("svc")+"/bytes/200000")
	require.NoError(t, err)
	assert.Len(t, body, n)
}

func TestCutAfterUpstream(t *testing.T) {
	l, svc, c := setup(t)
	const n = 4 << 20
	require.NoError(t, l.CutAfter("svc", Upstream, 1<<20))

	_, err := put(c, l.URL("svc"), n)
	require.Error(t, err, "the first upload is cut mid-body")
	assert.EqualValues(t, 1, l.Stats("svc").Cut)

	code, err := put(c, l.URL("svc"), n)
	require.NoError(t, err, "the retry passes")
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, []upload{{n: n, sum: patternSum(n)}}, svc.whole(),
		"the service read only the retry to its end, and whole")
	assert.EqualValues(t, 1, l.Stats("svc").Cut)

	require.NoError(t, l.Clear("svc"))
	assert.Empty(t, l.Active("svc"))
}

func TestCutAfterDownstream(t *testing.T) {
	l, _, c := setup(t)
	const n = 4 << 20
	require.NoError(t, l.CutAfter("svc", Downstream, 1<<20))

	code, body, err := get(c, l.URL("svc")+"/bytes/4194304")
	assert.Equal(t, http.StatusOK, code, "headers pass")
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the body is truncated")
	assert.Less(t, len(body), 1<<20)
	assert.Equal(t, patternBytes(int64(len(body))), body)
	assert.EqualValues(t, 1, l.Stats("svc").Cut)

	_, body, err = get(c, l.URL("svc")+"/bytes/4194304")
	require.NoError(t, err)
	assert.Equal(t, patternBytes(n), body)
	assert.EqualValues(t, 1, l.Stats("svc").Cut)
}

func TestReset(t *testing.T) {
	for _, dir := range []Direction{Upstream, Downstream} {
		t.Run(dir.String(), func(t *testing.T) {
			l, _, c := setup(t)
			require.NoError(t, l.Reset("svc", dir))

			_, _, err := get(c, l.URL("svc")+"/bytes/10")
			require.Error(t, err)
			assert.ErrorIs(t, err, syscall.ECONNRESET)
			assert.EqualValues(t, 1, l.Stats("svc").Reset)

			require.NoError(t, l.Clear("svc"))
			assert.Empty(t, l.Active("svc"))
			code, _, err := get(c, l.URL("svc")+"/bytes/10")
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, code)
			assert.EqualValues(t, 1, l.Stats("svc").Reset)
		})
	}
}

func TestStall(t *testing.T) {
	for _, dir := range []Direction{Upstream, Downstream} {
		t.Run(dir.String(), func(t *testing.T) {
			l, _, c := setup(t)
			require.NoError(t, l.Stall("svc", dir))

			short := *c
			short.Timeout = 300 * time.Millisecond
			_, _, err := get(&short, l.URL("svc")+"/bytes/10")
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout(), "%v", err)

			require.NoError(t, l.Clear("svc"))
			code, _, err := get(c, l.URL("svc")+"/bytes/10")
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, code)
		})
	}
}

func TestBurst5xx(t *testing.T) {
	l, _, c := setup(t)
	require.NoError(t, l.Burst5xx("svc", http.StatusServiceUnavailable, 3))
	assert.Equal(t, []string{"burst5xx"}, l.Active("svc"))

	for i := 1; i <= 3; i++ {
		code, body, err := get(c, l.URL("svc")+"/bytes/10")
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, code)
		var e struct {
			Error struct {
				Code           int
				Title, Message string
			}
		}
		require.NoError(t, json.Unmarshal(body, &e), "%s", body)
		assert.Equal(t, 503, e.Error.Code)
		assert.Equal(t, "Service Unavailable", e.Error.Title)
		assert.Equal(t, fmt.Sprintf("fault layer: burst %d of 3", i), e.Error.Message)
	}
	code, _, err := get(c, l.URL("svc")+"/bytes/10")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, Stats{Requests: 4, Answered5xx: 3}, l.Stats("svc"))
	assert.Empty(t, l.Active("svc"))

	// Exactly n under concurrency too.
	require.NoError(t, l.Burst5xx("svc", http.StatusBadGateway, 5))
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			code, _, err := get(c, l.URL("svc")+"/bytes/10")
			assert.NoError(t, err)
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, map[int]int{http.StatusOK: 15, http.StatusBadGateway: 5}, codes)

	// Clear ends a burst under way.
	require.NoError(t, l.Burst5xx("svc", 500, 10))
	require.NoError(t, l.Clear("svc"))
	code, _, err = get(c, l.URL("svc")+"/bytes/10")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)

	assert.Error(t, l.Burst5xx("svc", 404, 1))
	assert.Error(t, l.Burst5xx("svc", 503, 0))
}

func TestRefusesNonLoopback(t *testing.T) {
	l := New()
	defer l.Close()
	for _, up := range []string{"10.0.0.1:80", "192.168.1.1:80", "198.51.100.1:5000", "example.com:80", ":80", "0.0.0.0:80", "127.0.0.1:0", "127.0.0.1"} {
		_, err := l.Add("x", up)
		assert.Error(t, err, up)
	}
	for _, listen := range []string{":0", "0.0.0.0:0", "[::]:0", "10.0.0.1:0"} {
		_, err := l.AddAt("x", listen, "127.0.0.1:5000")
		assert.Error(t, err, listen)
	}
	addr, err := l.Add("x", "localhost:5000")
	require.NoError(t, err)
	assert.Regexp(t, `^127\.0\.0\.1:\d+$`, addr)
	assert.Error(t, l.Latency("nope", time.Second, 0))
	assert.Error(t, l.Stall("x", Direction(7)))
	assert.Equal(t, "", l.URL("nope"))
}

func TestBigUploadBoundedMemory(t *testing.T) {
	l, svc, c := setup(t)
	const n = 256 << 20
	want := patternSum(n)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
	}()
	code, err := put(c, l.URL("svc"), n)
	close(stop)
	<-sampled
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, []upload{{n: n, sum: want}}, svc.whole())
	growth := int64(peak) - int64(base)
	t.Logf("heap: base %d MiB, peak %d MiB", base>>20, peak>>20)
	assert.Less(t, growth, int64(32<<20), "heap grew %d MiB for a %d MiB body", growth>>20, n>>20)
}

func TestCloseLeavesNothing(t *testing.T) {
	svc := newUpstream(t)
	tr := &http.Transport{Proxy: nil}
	c := &http.Client{Transport: tr}
	before := runtime.NumGoroutine()

	l := New()
	front, err := l.Add("a", svc.Listener.Addr().String())
	require.NoError(t, err)
	_, err = l.Add("b", svc.Listener.Addr().String())
	require.NoError(t, err)
	hops := []string{l.services["a"].hop.addr, l.services["b"].hop.addr}
	resp, err := c.Get(l.URL("b") + "/bytes/1000")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	// Leave a stalled request, a fired cut and a toxic in force.
	require.NoError(t, l.CutAfter("b", Downstream, 10))
	_, _, err = get(c, l.URL("b")+"/bytes/1000")
	require.Error(t, err)
	require.NoError(t, l.Latency("b", time.Millisecond, 0))
	require.NoError(t, l.Stall("a", Downstream))
	stalled := make(chan error)
	go func() {
		resp, err := c.Get(l.URL("a") + "/bytes/1000")
		if err == nil {
			resp.Body.Close()
		}
		stalled <- err
	}()
	time.Sleep(100 * time.Millisecond)

	l.Close()
	l.Close()
	assert.Error(t, <-stalled, "Close ends the stalled connection")
	for _, a := range append(hops, front) {
		conn, err := net.Dial("tcp", a)
		if err == nil {
			conn.Close()
		}
		assert.Error(t, err, "%s still listens", a)
	}
	_, err = l.Add("c", svc.Listener.Addr().String())
	assert.Error(t, err, "a closed layer adds nothing")

	tr.CloseIdleConnections()
	// Polled here: assert.Eventually runs goroutines of its own.
	for end := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left")
	if t.Failed() {
		buf := make([]byte, 1<<20)
		t.Logf("%s", buf[:runtime.Stack(buf, true)])
	}
}
