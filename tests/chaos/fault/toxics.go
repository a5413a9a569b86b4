package fault

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// Two toxics of our own, registered with toxiproxy the documented way
// (CREATING_TOXICS.md): a limit_data that fires once, and a counter.

const (
	cutOnceType    = "metalkit_cut_once"
	countFirstType = "metalkit_count_first"
)

func init() {
	toxics.Register(cutOnceType, new(cutOnceToxic))
	toxics.Register(countFirstType, new(countFirstToxic))
}

// Toxiproxy builds each toxic from JSON (AddToxicJson), so a toxic cannot be
// handed a Go pointer: it gets the key of a hook in this registry instead.
var (
	hooks   sync.Map // key → *hook
	hookSeq atomic.Uint64
)

// hook is the state one toxic shares across all its connections.
type hook struct {
	fired atomic.Bool   // cutOnceToxic: some connection was cut
	count *atomic.Int64 // the service's counter to bump
}

func addHook(count *atomic.Int64) string {
	k := strconv.FormatUint(hookSeq.Add(1), 10)
	hooks.Store(k, &hook{count: count})
	return k
}

func dropHook(k string) { hooks.Delete(k) }

func lookupHook(k string) *hook {
	if h, ok := hooks.Load(k); ok {
		return h.(*hook)
	}
	return nil
}

// drain discards stub's input until it ends. A toxic that closed its stub
// calls it instead of returning: the toxic before it would otherwise block
// for ever on the next chunk (toxiproxy's limit_data and reset_peer just
// return, leaking that toxic's goroutine and the link's reader whenever
// more data follows). It does not watch Interrupt: on a closed stub,
// InterruptToxic must find it closed rather than interrupt it.
func drain(stub *toxics.ToxicStub) {
	for range stub.Input {
	}
}

// cutOnceToxic is limit_data with a hook: per connection the first Bytes
// bytes pass; on the first connection to carry more, the rest is dropped
// and the connection closed. The hook's fired flag, set by compare-and-swap,
// makes that happen to one connection only; on the others it passes all.
type cutOnceToxic struct {
	Bytes int64  `json:"bytes"`
	Hook  string `json:"hook"`
}

type cutOnceState struct {
	passed int64
	spent  bool // another connection was cut: pass everything
}

func (t *cutOnceToxic) NewState() any { return new(cutOnceState) }

func (t *cutOnceToxic) Pipe(stub *toxics.ToxicStub) {
	h := lookupHook(t.Hook)
	st := stub.State.(*cutOnceState)
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			if !st.spent && st.passed+int64(len(c.Data)) > t.Bytes {
				if h != nil && h.fired.CompareAndSwap(false, true) {
					if keep := t.Bytes - st.passed; keep > 0 {
						stub.Output <- &stream.StreamChunk{Data: c.Data[:keep], Timestamp: c.Timestamp}
					}
					h.count.Add(1)
					stub.Close()
					drain(stub)
					return
				}
				st.spent = true
			}
			st.passed += int64(len(c.Data))
			stub.Output <- c
		}
	}
}

// countFirstToxic goes right before reset_peer: it counts a connection when
// its first chunk arrives and hands that chunk on, on which reset_peer
// resets the connection. As reset_peer reads nothing more, it then closes
// and drains.
type countFirstToxic struct {
	Hook string `json:"hook"`
}

func (t *countFirstToxic) Pipe(stub *toxics.ToxicStub) {
	select {
	case <-stub.Interrupt:
		return
	case c := <-stub.Input:
		if c == nil {
			stub.Close()
			return
		}
		if h := lookupHook(t.Hook); h != nil {
			h.count.Add(1)
		}
		stub.Output <- c
		stub.Close()
		drain(stub)
	}
}
