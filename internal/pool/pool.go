// Package pool runs a batch's items with bounded concurrency: the one
// worker pool of the batch modules (enroll, inspect). An item's failure
// never stops the others, unless failfast is asked: then items not yet
// started are skipped, and told so.
package pool

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// Run calls do(i) for each i in items, at most workers at a time. do
// reports whether item i failed. With failfast, once an item failed (or
// failedBefore is true: the batch already has a failure), skip(i) is
// called instead of do(i) for the items not started yet.
func Run(items []int, workers int, failfast, failedBefore bool, do func(i int) (failed bool), skip func(i int)) {
	var failed atomic.Bool
	failed.Store(failedBefore)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(max(workers, 1), len(items)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if failfast && failed.Load() {
					skip(i)
					continue
				}
				if do(i) {
					failed.Store(true)
				}
			}
		}()
	}
	for _, i := range items {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// Each calls do(i) for i in 0..n-1, at most workers at a time: a batch of
// reads, where a failure is the caller's to record.
func Each(n, workers int, do func(i int)) {
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	Run(items, workers, false, false, func(i int) bool { do(i); return false }, func(int) {})
}

// FailedMsg is the one wording of a batch's failure: how many of how many
// items failed, where every item's outcome is (the result key), and the
// failures' lines (all of them, or the first few and "and N more").
func FailedMsg(failed, total int, noun, key string, lines []string) string {
	return fmt.Sprintf("%d of %d %s failed (every outcome is in %s): %s",
		failed, total, noun, key, strings.Join(lines, " | "))
}
