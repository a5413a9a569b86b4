// Package pool runs a batch's items with bounded concurrency: the one
// worker pool of the batch modules (enroll, inspect). An item's failure
// never stops the others, unless failfast is asked: then items not yet
// started are skipped, and told so.
package pool

import (
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
