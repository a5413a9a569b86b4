package pool

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRunBoundsConcurrencyAndRunsEveryItem(t *testing.T) {
	var running, peak atomic.Int32
	var mu sync.Mutex
	done := map[int]bool{}
	items := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	Run(items, 3, false, false, func(i int) bool {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		running.Add(-1)
		mu.Lock()
		done[i] = true
		mu.Unlock()
		return i == 2 // a failure does not stop the others without failfast
	}, func(int) { t.Error("skip without failfast") })
	assert.Len(t, done, 10)
	assert.LessOrEqual(t, peak.Load(), int32(3))
}

func TestFailfastSkipsWhatHasNotStarted(t *testing.T) {
	var mu sync.Mutex
	var ran, skipped []int
	Run([]int{0, 1, 2, 3, 4}, 1, true, false, func(i int) bool {
		mu.Lock()
		ran = append(ran, i)
		mu.Unlock()
		return i == 1
	}, func(i int) {
		mu.Lock()
		skipped = append(skipped, i)
		mu.Unlock()
	})
	assert.Equal(t, []int{0, 1}, ran)
	assert.Equal(t, []int{2, 3, 4}, skipped)

	// A failure known before the batch starts skips everything.
	ran, skipped = nil, nil
	Run([]int{0, 1}, 2, true, true, func(i int) bool { ran = append(ran, i); return false }, func(i int) {
		mu.Lock()
		skipped = append(skipped, i)
		mu.Unlock()
	})
	assert.Empty(t, ran)
	assert.ElementsMatch(t, []int{0, 1}, skipped)
}

func TestFailedMsg(t *testing.T) {
	assert.Equal(t, "2 of 5 nodes failed (every outcome is in nodes): a: x | b: y", FailedMsg(2, 5, "nodes", "nodes", []string{"a: x", "b: y"}))
}
