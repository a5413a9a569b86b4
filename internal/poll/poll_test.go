package poll

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestUntilStopsWhenDone(t *testing.T) {
	looks := 0
	err := Until(context.Background(), Backoff{First: time.Millisecond}, func(context.Context) (bool, error) {
		looks++
		return looks == 3, nil
	})
	assert.NoError(t, err)
	assert.Equal(t, 3, looks)
}

func TestUntilReturnsTheLooksError(t *testing.T) {
	boom := errors.New("node reached deploy failed")
	err := Until(context.Background(), Backoff{First: time.Millisecond}, func(context.Context) (bool, error) { return false, boom })
	assert.ErrorIs(t, err, boom)
}

func TestUntilEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Until(ctx, Backoff{First: time.Hour, WaitFirst: true}, func(context.Context) (bool, error) { return false, nil })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second, "an hour's interval is not waited out")

	// A look that fails because the context ended reads as the context's end.
	ctx2, cancel2 := context.WithCancel(context.Background())
	err = Until(ctx2, Backoff{}, func(context.Context) (bool, error) { cancel2(); return false, errors.New("request canceled") })
	assert.ErrorIs(t, err, context.Canceled)
}

func TestBackoffGrowsToItsCaps(t *testing.T) {
	b := Backoff{First: 100 * time.Millisecond, Max: 300 * time.Millisecond, Growth: 2, LateMax: time.Second, LateAfter: time.Minute}
	assert.Equal(t, 200*time.Millisecond, b.next(100*time.Millisecond, 0))
	assert.Equal(t, 300*time.Millisecond, b.next(200*time.Millisecond, 0))
	assert.Equal(t, 600*time.Millisecond, b.next(300*time.Millisecond, 2*time.Minute), "past LateAfter the cap is LateMax")
	assert.Equal(t, time.Second, b.next(600*time.Millisecond, 2*time.Minute))
	fixed := Backoff{First: 2 * time.Second}
	assert.Equal(t, 2*time.Second, fixed.next(2*time.Second, 0))
}

func TestSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled)
	assert.NoError(t, Sleep(context.Background(), time.Millisecond))
}
