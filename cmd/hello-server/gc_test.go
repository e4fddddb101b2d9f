package main

import (
	"io"
	"math"
	"runtime/metrics"
	"testing"
	"testing/fstest"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

func TestGCFlagsParse(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want gcPercent
		ok   bool
	}{{"400", 400, true}, {"0", 0, true}, {"off", -1, true}, {"-5", 0, false}, {"lots", 0, false}, {"", 0, false}} {
		var p gcPercent
		err := p.Set(tt.in)
		assert.Equal(t, err == nil, tt.ok, "gc percent "+tt.in+" accepted")
		if tt.ok {
			assert.Equal(t, p, tt.want, "gc percent "+tt.in)
		}
	}
	for _, tt := range []struct {
		in   string
		want memoryLimit
		ok   bool
	}{
		{"768MiB", 768 << 20, true}, {"1GiB", 1 << 30, true}, {"12345", 12345, true}, {"64KiB", 64 << 10, true},
		{"2TiB", 2 << 40, true}, {"100B", 100, true}, {"off", math.MaxInt64, true},
		{"10KB", 0, false}, {"0", 0, false}, {"-1MiB", 0, false}, {"MiB", 0, false}, {"99999999999TiB", 0, false},
	} {
		var l memoryLimit
		err := l.Set(tt.in)
		assert.Equal(t, err == nil, tt.ok, "memory limit "+tt.in+" accepted")
		if tt.ok {
			assert.Equal(t, l, tt.want, "memory limit "+tt.in)
		}
	}
	assert.Equal(t, memoryLimit(DefaultMemoryLimit).String(), "768MiB", "default's text")
}

// TestRunSetsTheGarbageCollector checks that run applies -gc-percent and
// -memory-limit (and Go's GOGC and GOMEMLIMIT through them) while it runs,
// and puts the settings before back when it returns. Not parallel: these
// are the process's.
func TestRunSetsTheGarbageCollector(t *testing.T) {
	withHostFS(t, fstest.MapFS{}) // no cgroup: the default is DefaultMemoryLimit
	read := func() (percent, limit uint64) {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64(), s[1].Value.Uint64()
	}
	beforePercent, beforeLimit := read()
	for _, tt := range []struct {
		args    []string
		percent uint64
		limit   uint64
	}{
		{nil, DefaultGCPercent, DefaultMemoryLimit},
		{[]string{"-gc-percent", "250", "-memory-limit", "1GiB"}, 250, 1 << 30},
	} {
		s := startRun(t, tt.args...)
		percent, limit := read()
		assert.Equal(t, percent, tt.percent, "GC percent while running")
		assert.Equal(t, limit, tt.limit, "memory limit while running")
		s.cancel()
		assert.NoError(t, <-s.done, "run")
		s.done <- nil // for the cleanup
		percent, limit = read()
		assert.Equal(t, percent, beforePercent, "GC percent after run")
		assert.Equal(t, limit, beforeLimit, "memory limit after run")
	}
}

// withHostFS makes fsys the machine's root for the test. Not for parallel
// tests: the root is the process's.
func withHostFS(t *testing.T, fsys fstest.MapFS) {
	before := hostFS
	hostFS = fsys
	t.Cleanup(func() { hostFS = before })
}

// TestMemoryLimitFromCgroup checks -memory-limit's default in a container
// limited to 512 MiB (cgroup v2, as Kubernetes sets it): 90 % of the limit,
// below it; -memory-limit and GOMEMLIMIT still win. Not parallel: the
// machine's root is the process's.
func TestMemoryLimitFromCgroup(t *testing.T) {
	withHostFS(t, cgroupV2(512<<20))
	for _, tt := range []struct {
		args []string
		env  string
		want memoryLimit
	}{
		{nil, "", 512 << 20 / 100 * 90},
		{[]string{"-memory-limit", "768MiB"}, "", 768 << 20},
		{nil, "1GiB", 1 << 30},
		{[]string{"-memory-limit", "off"}, "", math.MaxInt64},
	} {
		getenv := func(name string) string {
			if name == "GOMEMLIMIT" {
				return tt.env
			}
			return ""
		}
		o, err := parseConfig(tt.args, getenv, io.Discard)
		assert.NoError(t, err, "parse")
		assert.Equal(t, o.gc.memoryLimit, tt.want, "memory limit")
	}
	o, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	assert.NoError(t, err, "parse")
	assert.True(t, o.gc.memoryLimit < 512<<20, "the soft limit is below the cgroup's")
	assert.Equal(t, o.gc.limitFrom, "90% of the cgroup's memory limit, 536870912 bytes", "where the limit comes from")
}
