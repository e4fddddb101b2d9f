package h2guard

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// youngStreams are the peer's streams opened less than minResetAge ago (at
// most maxYoung of them), and whether net/http has answered each: written a
// HEADERS frame on it (its response headers, or gRPC's trailers) before the
// peer reset it. The reading goroutine opens and looks them up, the writing
// one (sent.frame) marks answers; both hold mu for as long as one search.
type youngStreams struct {
	mu   sync.Mutex
	list []openedAt // in stream order, which is the order they opened
}

// openedAt is when a stream of the peer's opened, when its HEADERS frame
// was read, and whether net/http has answered it since.
type openedAt struct {
	stream   uint32
	answered bool
	at       time.Time
}

// open remembers that stream opened at now.
func (y *youngStreams) open(stream uint32, now time.Time) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.forgetLocked(now)
	if len(y.list) == maxYoung {
		y.list = y.list[1:]
	}
	y.list = append(y.list, openedAt{stream: stream, at: now})
}

// answer notes that net/http wrote a HEADERS frame on stream.
func (y *youngStreams) answer(stream uint32) {
	y.mu.Lock()
	defer y.mu.Unlock()
	if i, ok := y.find(stream); ok {
		y.list[i].answered = true
	}
}

// rapid reports whether a reset of stream, read at now, is a rapid reset:
// the stream opened less than minResetAge before now and net/http has not
// answered it.
func (y *youngStreams) rapid(stream uint32, now time.Time) bool {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.forgetLocked(now)
	i, ok := y.find(stream)
	return ok && !y.list[i].answered
}

// find returns the index of stream in the list; y.mu is held.
func (y *youngStreams) find(stream uint32) (int, bool) {
	return slices.BinarySearchFunc(y.list, stream, func(o openedAt, s uint32) int { return cmp.Compare(o.stream, s) })
}

// forgetLocked drops the streams that are no longer young at now; y.mu is
// held.
func (y *youngStreams) forgetLocked(now time.Time) {
	i := 0
	for i < len(y.list) && now.Sub(y.list[i].at) >= minResetAge {
		i++
	}
	y.list = y.list[i:]
}
