// Package fault is the fault layer that integration tests put between the
// modules and real OpenStack services on loopback.
//
// Each service gets two hops in series, both on 127.0.0.1:
//
//	client ──▶ toxiproxy (TCP toxics) ──▶ HTTP hop (5xx bursts) ──▶ service
//
// The toxiproxy hop is in front so that its toxics act on the client's own
// TCP connection: a reset is an RST the client reads, a cut ends the
// client's connection after exactly N of its bytes, a stall stalls the
// client's socket. With the HTTP hop in front instead, every TCP fault would
// hit the hop's connection to the service and reach the client only as the
// hop's reaction to it (a 502, or a transparent retry by its transport).
// The HTTP hop (net/http/httputil.ReverseProxy) does the one thing toxiproxy
// cannot: answer a request itself. Its answers then pass the TCP toxics too.
//
// The HTTP hop passes requests and responses through as they are: it
// follows no redirect and leaves Location alone, keeps the raw query and the
// client's Forwarded/X-Forwarded-* headers, adds none of its own, and sends
// the service the Host header the client sent, i.e. the layer's
// 127.0.0.1:PORT, as a plain TCP proxy would; so URLs that a service builds
// from Host point back through the layer. Bodies stream (nothing buffers a
// whole body); only hop-by-hop headers (Connection, Keep-Alive, TE, ...)
// are per hop, as for any HTTP proxy. Plain HTTP only.
package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"
)

func init() {
	// Some toxics (bandwidth) log to zerolog's global logger, at trace
	// level on every interrupt. Nothing else here uses zerolog.
	zlog.Logger = zerolog.Nop()
}

// Direction names one direction of a connection.
type Direction int

const (
	// Upstream is client → service: request line, headers and body.
	Upstream Direction = iota
	// Downstream is service → client: the response.
	Downstream
)

// String is toxiproxy's name for the direction ("upstream", "downstream").
func (d Direction) String() string {
	if d == Downstream {
		return "downstream"
	}
	return "upstream"
}

// Stats are one service's counters since Add.
type Stats struct {
	// Requests is how many HTTP requests reached the HTTP hop, including
	// those Burst5xx answered (a request cut inside its headers never does).
	Requests int64
	// Answered5xx is how many of them Burst5xx answered itself.
	Answered5xx int64
	// Cut is how many connections CutAfter ended (at most one per call).
	Cut int64
	// Reset is how many connections Reset's reset_peer toxic reset.
	Reset int64
	// Unauthorized and ServiceFailed count the service's own 401 and 5xx
	// answers that passed the hop (not those Burst5xx gave).
	Unauthorized, ServiceFailed int64
}

// Layer holds the proxies of one test. Its methods are safe for concurrent
// use.
type Layer struct {
	api *toxiproxy.ApiServer

	mu       sync.Mutex
	services map[string]*service
	closed   bool
}

// service is one proxied service: its toxiproxy proxy and its HTTP hop.
type service struct {
	addr  string // the toxiproxy listener the client dials
	proxy *toxiproxy.Proxy
	hop   *hop

	// faults serialises changes to this service's toxics; hooks are the
	// keys of its toxics' counters in the hook registry (toxics.go).
	faults sync.Mutex
	hooks  []string

	cut, reset atomic.Int64
}

// New returns an empty layer. Close it when done.
func New() *Layer {
	// Toxiproxy's server is used only as the owner of the proxy collection:
	// its HTTP API is never started, toxics are added in process.
	api := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	return &Layer{api: api, services: map[string]*service{}}
}

// Add proxies upstream (a loopback host:port) as name, listening on
// 127.0.0.1 on a free port, and returns the address to dial.
func (l *Layer) Add(name, upstream string) (addr string, err error) {
	return l.AddAt(name, "127.0.0.1:0", upstream)
}

// AddAt is Add listening on listen (a loopback host:port; port 0 picks a
// free one), for a service whose clients need a known address.
func (l *Layer) AddAt(name, listen, upstream string) (addr string, err error) {
	if listen, err = loopback(listen, true); err != nil {
		return "", fmt.Errorf("fault: %s: listen: %w", name, err)
	}
	if upstream, err = loopback(upstream, false); err != nil {
		return "", fmt.Errorf("fault: %s: upstream: %w", name, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return "", fmt.Errorf("fault: %s: layer is closed", name)
	}
	if _, ok := l.services[name]; ok {
		return "", fmt.Errorf("fault: %s: already added", name)
	}
	h, err := startHop(upstream)
	if err != nil {
		return "", fmt.Errorf("fault: %s: %w", name, err)
	}
	p := toxiproxy.NewProxy(l.api, name, listen, h.addr)
	if err := l.api.Collection.Add(p, true); err != nil {
		h.close()
		return "", fmt.Errorf("fault: %s: %w", name, err)
	}
	s := &service{addr: p.Listen, proxy: p, hop: h}
	l.services[name] = s
	return s.addr, nil
}

// URL is "http://127.0.0.1:PORT" for name, or "" if name was never added.
func (l *Layer) URL(name string) string {
	s, err := l.service(name)
	if err != nil {
		return ""
	}
	return "http://" + s.addr
}

// Stats returns name's counters (zero if name was never added).
func (l *Layer) Stats(name string) Stats {
	s, err := l.service(name)
	if err != nil {
		return Stats{}
	}
	return Stats{
		Requests:    s.hop.requests.Load(),
		Answered5xx: s.hop.answered.Load(),
		Cut:         s.cut.Load(),
		Reset:       s.reset.Load(),

		Unauthorized:  s.hop.unauthorized.Load(),
		ServiceFailed: s.hop.failed.Load(),
	}
}

// Active lists name's faults in force: toxiproxy's toxic names, sorted,
// plus "burst5xx" while a burst has answers left.
func (l *Layer) Active(name string) []string {
	s, err := l.service(name)
	if err != nil {
		return nil
	}
	var names []string
	for _, t := range s.proxy.Toxics.GetToxicArray() {
		if w, ok := t.(*toxics.ToxicWrapper); ok {
			names = append(names, w.Name)
		}
	}
	if s.hop.burstLeft() > 0 {
		names = append(names, "burst5xx")
	}
	sort.Strings(names)
	return names
}

// Latency delays every chunk of data latency ± jitter, in each direction
// (toxiproxy's latency toxic on both streams), so one request and its
// response take at least 2×(latency−jitter) longer. Toxiproxy counts whole
// milliseconds. Calling it again replaces the values.
func (l *Layer) Latency(name string, latency, jitter time.Duration) error {
	if latency < 0 || jitter < 0 {
		return fmt.Errorf("fault: %s: latency and jitter must not be negative", name)
	}
	attrs := map[string]int64{"latency": latency.Milliseconds(), "jitter": jitter.Milliseconds()}
	return l.toxics(name, func(s *service) error {
		for _, d := range []Direction{Upstream, Downstream} {
			if err := s.set("latency_"+d.String(), "latency", d, attrs); err != nil {
				return err
			}
		}
		return nil
	})
}

// Bandwidth limits each direction to kbPerSec kilobytes (1000 bytes) a
// second (toxiproxy's bandwidth toxic on both streams).
func (l *Layer) Bandwidth(name string, kbPerSec int) error {
	if kbPerSec <= 0 {
		return fmt.Errorf("fault: %s: bandwidth must be positive, not %d", name, kbPerSec)
	}
	return l.toxics(name, func(s *service) error {
		for _, d := range []Direction{Upstream, Downstream} {
			if err := s.set("bandwidth_"+d.String(), "bandwidth", d, map[string]int{"rate": kbPerSec}); err != nil {
				return err
			}
		}
		return nil
	})
}

// CutAfter ends one connection once it has carried bytes bytes in dir:
// those pass, and when more arrive the connection is closed. Upstream cuts
// mid-request (the count includes the request line and headers),
// Downstream mid-response. It fires once: the first connection to carry
// more than bytes is cut, every other one (concurrent or later, e.g. a
// retry) passes whole. It acts on connections already open too, counting
// from this call; a keep-alive connection counts across its requests.
// Calling it again arms a new cut.
func (l *Layer) CutAfter(name string, dir Direction, bytes int64) error {
	if bytes < 0 {
		return fmt.Errorf("fault: %s: byte count must not be negative", name)
	}
	return l.toxicsDir(name, dir, func(s *service) error {
		key := s.hook(&s.cut)
		return s.set("cut_"+dir.String(), cutOnceType, dir, cutOnceToxic{Bytes: bytes, Hook: key})
	})
}

// Stall stops the data in dir while the connection stays open (toxiproxy's
// timeout toxic with timeout 0 drops it). Clear ends the stall by closing
// the stalled connections: the bytes dropped cannot be replayed.
func (l *Layer) Stall(name string, dir Direction) error {
	return l.toxicsDir(name, dir, func(s *service) error {
		return s.set("stall_"+dir.String(), "timeout", dir, map[string]int{"timeout": 0})
	})
}

// Reset answers the first data in dir of each connection with a TCP RST
// (toxiproxy's reset_peer toxic, timeout 0), until Clear. Toxiproxy sets
// SO_LINGER 0, which makes the close an RST, when a connection starts: a
// connection already open when Reset is called is closed (FIN) instead.
func (l *Layer) Reset(name string, dir Direction) error {
	return l.toxicsDir(name, dir, func(s *service) error {
		// The counter toxic goes right before reset_peer, whose type
		// toxiproxy checks to set SO_LINGER, so it cannot be wrapped.
		key := s.hook(&s.reset)
		if err := s.set("reset_count_"+dir.String(), countFirstType, dir, countFirstToxic{Hook: key}); err != nil {
			return err
		}
		return s.set("reset_"+dir.String(), "reset_peer", dir, map[string]int{"timeout": 0})
	})
}

// Burst5xx makes the HTTP hop answer the next n requests to name itself,
// with code (500-599) and an OpenStack-style JSON error body; later
// requests pass. It replaces a burst still under way. The hop does not
// read the request bodies it answers (Go's server then closes the
// connection after the answer if much body is left, as a real server may).
func (l *Layer) Burst5xx(name string, code, n int) error {
	if code < 500 || code > 599 {
		return fmt.Errorf("fault: %s: %d is not a 5xx code", name, code)
	}
	if n < 1 {
		return fmt.Errorf("fault: %s: burst length must be positive, not %d", name, n)
	}
	s, err := l.service(name)
	if err != nil {
		return err
	}
	s.hop.setBurst(code, n)
	return nil
}

// Clear removes every fault from name: its toxics (closing stalled
// connections) and what is left of a burst. The counters stay.
func (l *Layer) Clear(name string) error {
	return l.toxics(name, func(s *service) error {
		s.proxy.Toxics.ResetToxics(context.Background())
		for _, k := range s.hooks {
			dropHook(k)
		}
		s.hooks = nil
		s.hop.setBurst(0, 0)
		return nil
	})
}

// Close stops every proxy: the listeners and every connection through
// them. It waits for the HTTP hops' connections to finish; toxiproxy's
// per-connection goroutines end as their closed sockets fail, moments
// later. Close is idempotent.
func (l *Layer) Close() {
	l.mu.Lock()
	services := l.services
	l.services, l.closed = map[string]*service{}, true
	l.mu.Unlock()
	// Clear stops each proxy (listener, then every connection).
	_ = l.api.Collection.Clear()
	for _, s := range services {
		s.faults.Lock()
		for _, k := range s.hooks {
			dropHook(k)
		}
		s.hooks = nil
		s.faults.Unlock()
		s.hop.close()
	}
}

func (l *Layer) service(name string) (*service, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.services[name]
	if !ok {
		return nil, fmt.Errorf("fault: no service %q", name)
	}
	return s, nil
}

// toxics runs change on name's service with its toxics locked.
func (l *Layer) toxics(name string, change func(*service) error) error {
	return l.toxicsDir(name, Upstream, change)
}

// toxicsDir is toxics for a fault in dir, which it checks first.
func (l *Layer) toxicsDir(name string, dir Direction, change func(*service) error) error {
	if dir != Upstream && dir != Downstream {
		return fmt.Errorf("fault: %s: no direction %d", name, int(dir))
	}
	s, err := l.service(name)
	if err != nil {
		return err
	}
	s.faults.Lock()
	defer s.faults.Unlock()
	if err := change(s); err != nil {
		return fmt.Errorf("fault: %s: %w", name, err)
	}
	return nil
}

// set adds toxic name, replacing one of that name. Toxiproxy's in-process
// API for adding a toxic takes the same JSON as its HTTP API.
func (s *service) set(name, typ string, dir Direction, attrs any) error {
	if err := s.proxy.Toxics.RemoveToxic(context.Background(), name); err != nil && !errors.Is(err, toxiproxy.ErrToxicNotFound) {
		return err
	}
	body, err := json.Marshal(map[string]any{
		"name": name, "type": typ, "stream": dir.String(), "toxicity": 1.0, "attributes": attrs,
	})
	if err != nil {
		return err
	}
	_, err = s.proxy.Toxics.AddToxicJson(bytes.NewReader(body))
	return err
}

// hook registers a counter for a toxic of s and returns its key.
func (s *service) hook(count *atomic.Int64) string {
	k := addHook(count)
	s.hooks = append(s.hooks, k)
	return k
}

// loopback checks that addr is host:port on a loopback address and returns
// it with "localhost" written as 127.0.0.1 (so nothing resolves it later).
// An empty host (every interface) is refused; port 0 only if zeroPort.
func loopback(addr string, zeroPort bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || (p == 0 && !zeroPort) {
		return "", fmt.Errorf("%q: bad port", addr)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%q is not a loopback address", addr)
	}
	return net.JoinHostPort(host, port), nil
}
