package cli_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/cli"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

func TestLogWriterLosesNoLineAtClose(t *testing.T) {
	var out servertest.Buffer
	w := cli.NewLogWriter(&out, 0, time.Hour) // only Close or a half-full buffer writes
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(w, "line %d-%d\n", g, i)
			}
		})
	}
	wg.Wait()
	assert.NoError(t, w.Close(), "close")
	assert.Equal(t, strings.Count(out.String(), "\n"), 8*500, "lines written at close")
	for g := range 8 {
		assert.Contains(t, out.String(), fmt.Sprintf("line %d-499\n", g), "every writer's last line, whole")
	}
}

func TestLogWriterWritesOnItsInterval(t *testing.T) {
	var out servertest.Buffer
	w := cli.NewLogWriter(&out, 0, 10*time.Millisecond)
	defer w.Close()
	fmt.Fprintln(w, "hello")
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "hello\n" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, out.String(), "hello\n", "written without Close")
}

// blocked is a destination that takes nothing until released.
type blocked struct {
	release chan struct{}
	got     *servertest.Buffer
}

func (b blocked) Write(p []byte) (int, error) { <-b.release; return b.got.Write(p) }

func TestLogWriterNeverBlocksAndCountsDrops(t *testing.T) {
	dest := blocked{release: make(chan struct{}), got: &servertest.Buffer{}}
	w := cli.NewLogWriter(dest, 1<<10, time.Millisecond)
	// The writes end while the destination is still stuck: waited for with
	// a generous bound (they are CPU work, slow on a loaded machine), not timed.
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for range 10_000 {
			fmt.Fprintln(w, "a line of about forty bytes, again and again")
		}
	}()
	select {
	case <-wrote:
	case <-time.After(time.Minute):
		t.Fatal("writes waited for the stuck destination: not done after a minute")
	}
	close(dest.release)
	assert.NoError(t, w.Close(), "close")
	assert.Contains(t, dest.got.String(), "lines dropped", "Close says lines were dropped")
}
