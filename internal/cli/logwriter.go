package cli

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// LogWriter buffers log lines in memory and writes them to its destination
// from a goroutine of its own, every Interval or sooner when half full, so
// that logging a request costs a copy, not a system call, and a slow
// destination (a pipe nobody reads fast enough) never blocks a call. Past
// MaxBuffer, lines are dropped and counted; Close writes what is buffered
// and how many were dropped. Lines are not lost at shutdown: close it after
// the server has drained.
type LogWriter struct {
	out      io.Writer
	max      int
	interval time.Duration

	mu      sync.Mutex
	buf     []byte
	dropped int64
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// NewLogWriter starts a LogWriter to out that holds at most maxBuffer bytes
// (default 1 MiB) and writes every interval (default 100 ms).
func NewLogWriter(out io.Writer, maxBuffer int, interval time.Duration) *LogWriter {
	if maxBuffer <= 0 {
		maxBuffer = 1 << 20
	}
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	w := &LogWriter{out: out, max: maxBuffer, interval: interval,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

// Write queues p, one log record, whole; it never blocks on the destination.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if len(w.buf)+len(p) > w.max {
		w.dropped++
		w.mu.Unlock()
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	half := len(w.buf) >= w.max/2
	w.mu.Unlock()
	if half {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

func (w *LogWriter) loop() {
	defer close(w.done)
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	var spare []byte
	for {
		select {
		case <-tick.C:
		case <-w.kick:
		case <-w.stop:
			w.flush(&spare)
			return
		}
		w.flush(&spare)
	}
}

// flush writes what is buffered; spare is the buffer to swap in.
func (w *LogWriter) flush(spare *[]byte) {
	w.mu.Lock()
	out := w.buf
	w.buf = (*spare)[:0]
	w.mu.Unlock()
	if len(out) > 0 {
		_, _ = w.out.Write(out)
	}
	*spare = out
}

// Close writes everything buffered, says how many lines were dropped, if
// any, and stops the writer. Write after Close drops its line.
func (w *LogWriter) Close() error {
	select {
	case <-w.stop:
		return nil
	default:
	}
	close(w.stop)
	<-w.done
	w.mu.Lock()
	dropped := w.dropped
	w.max = 0 // later Writes drop
	w.mu.Unlock()
	if dropped > 0 {
		_, err := fmt.Fprintf(w.out, "log: %d lines dropped: the log's destination did not keep up\n", dropped)
		return err
	}
	return nil
}
