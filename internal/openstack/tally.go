package openstack

import (
	"maps"
	"sync"
)

// tally counts this process's retries by reason ("503 unavailable",
// "connection refused", ...): one task runs per process, and its result
// says what the cloud made it wait for (api_retries).
var tally struct {
	sync.Mutex
	byReason map[string]int
}

func countRetry(why string) {
	tally.Lock()
	defer tally.Unlock()
	if tally.byReason == nil {
		tally.byReason = map[string]int{}
	}
	tally.byReason[why]++
}

// Retries returns the retries since the last ResetRetries, by reason; nil
// when there were none.
func Retries() map[string]int {
	tally.Lock()
	defer tally.Unlock()
	if len(tally.byReason) == 0 {
		return nil
	}
	return maps.Clone(tally.byReason)
}

// ResetRetries forgets the retries counted so far (a new task begins).
func ResetRetries() {
	tally.Lock()
	defer tally.Unlock()
	tally.byReason = nil
}
