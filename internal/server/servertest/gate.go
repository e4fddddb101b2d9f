package servertest

import (
	"context"
	"sync"
)

// Gate holds LotsOfReplies after its first reply until the test opens it, so
// that a test can check the first reply arrived while the server still held
// the rest. Use its Pace as greeter.Options.Pace.
type Gate struct {
	mu      sync.Mutex
	release chan struct{}
}

// Arm returns the channel that, once closed, lets the next held stream go on.
func (g *Gate) Arm() chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.release = make(chan struct{})
	return g.release
}

// Pace waits after the first reply until the armed channel is closed or ctx
// ends.
func (g *Gate) Pace(ctx context.Context, sent int) error {
	if sent != 1 {
		return nil
	}
	g.mu.Lock()
	release := g.release
	g.mu.Unlock()
	select {
	case <-release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
