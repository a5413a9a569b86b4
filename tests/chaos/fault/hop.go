package fault

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"
)

// hop is a service's HTTP hop: a ReverseProxy to the service that can
// answer a burst of requests itself.
type hop struct {
	addr      string
	srv       *http.Server
	transport *http.Transport
	proxy     *httputil.ReverseProxy
	served    chan struct{} // closed when Serve has returned
	conns     sync.WaitGroup

	requests, answered atomic.Int64
	// unauthorized and failed count the service's own 401 and 5xx answers
	// (a token that expired mid-task; a service that broke under a fault).
	unauthorized, failed atomic.Int64

	mu                     sync.Mutex
	burstCode              int
	burstLen, burstAnswers int // answers given of burstLen
}

// forwarding are the headers ReverseProxy's Rewrite mode strips from the
// request; the hop puts the client's back.
var forwarding = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}

func startHop(upstream string) (*hop, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hop{addr: ln.Addr().String(), served: make(chan struct{})}
	quiet := log.New(io.Discard, "", 0)
	h.transport = &http.Transport{
		Proxy:               nil, // never an HTTP_PROXY from the environment
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 256, // many concurrent keep-alive clients
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true, // no Accept-Encoding of our own, no unzipping
	}
	h.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			// Not SetURL: it would set Host to upstream's. Out is a clone
			// of In, so Host, path and headers are the client's.
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = upstream
			r.Out.URL.RawQuery = r.In.URL.RawQuery
			for _, k := range forwarding {
				if v, ok := r.In.Header[k]; ok {
					r.Out.Header[k] = v
				}
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			switch {
			case resp.StatusCode == http.StatusUnauthorized:
				h.unauthorized.Add(1)
			case resp.StatusCode >= 500:
				h.failed.Add(1)
			}
			return nil
		},
		Transport:     h.transport,
		FlushInterval: -1, // pass each write on at once: adds no delay of its own
		ErrorLog:      quiet,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, http.StatusBadGateway, "fault layer: upstream: "+err.Error())
		},
	}
	h.srv = &http.Server{
		Handler:  h,
		ErrorLog: quiet,
		// Counting connections lets close wait for them; StateNew runs in
		// Serve's goroutine, so every Add is done before Serve returns.
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				h.conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				h.conns.Done()
			}
		},
	}
	go func() {
		defer close(h.served)
		_ = h.srv.Serve(ln)
	}()
	return h, nil
}

func (h *hop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	if code, k, n := h.takeBurst(); code != 0 {
		h.answered.Add(1)
		writeError(w, code, fmt.Sprintf("fault layer: burst %d of %d", k, n))
		return
	}
	h.proxy.ServeHTTP(w, r)
}

// setBurst arms a burst of n answers with code (n 0: none).
func (h *hop) setBurst(code, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.burstCode, h.burstLen, h.burstAnswers = code, n, 0
}

// takeBurst takes one answer of the burst: its code and its number k of n,
// or code 0 when the burst is over.
func (h *hop) takeBurst() (code, k, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.burstAnswers >= h.burstLen {
		return 0, 0, 0
	}
	h.burstAnswers++
	return h.burstCode, h.burstAnswers, h.burstLen
}

func (h *hop) burstLeft() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.burstLen - h.burstAnswers
}

// close stops the hop: its listener, its connections, their handlers and
// the connections to the service.
func (h *hop) close() {
	_ = h.srv.Close()
	<-h.served
	h.conns.Wait()
	h.transport.CloseIdleConnections()
}

// writeError answers with the error body Keystone (and oslo's faults)
// send: {"error": {"code": ..., "title": ..., "message": ...}}.
func writeError(w http.ResponseWriter, code int, msg string) {
	type body struct {
		Code    int    `json:"code"`
		Title   string `json:"title"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(map[string]body{"error": {code, http.StatusText(code), msg}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
