package main

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultGCPercent is -gc-percent's default: 400, where Go's is 100. The
// tail of one-stream gRPC latency was the garbage collector: at Go's
// default, about one call in 150 met a collection, which set the p99 (0.41–0.45
// ms against 0.35–0.38 for a bare net/http handler, 1 connection × 1 stream);
// at 400 it is 0.27–0.37 ms. The heap between collections grows from about
// 7 MiB to about 18 MiB at rest; -memory-limit bounds it under load.
const DefaultGCPercent = 400

// DefaultMemoryLimit is -memory-limit's default outside a cgroup with a
// memory limit: past it, the collector runs as often as it must (at most
// half the CPU, Go's rule), whatever the percent, so that a higher
// -gc-percent does not multiply the memory of a server under overload.
const DefaultMemoryLimit = 768 << 20

// CgroupMemoryPercent is -memory-limit's default inside a cgroup with a
// memory limit (a container's): that percentage of the limit, so that the
// collector works harder before the kernel kills the process, and the rest
// is left to what the collector does not count (stacks of the goroutines
// being created, the binary, the kernel's buffers charged to the cgroup).
const CgroupMemoryPercent = 90

// hostFS is where the cgroup's memory limit is read: the machine's root.
var hostFS fs.FS = os.DirFS("/")

// defaultMemoryLimit returns -memory-limit's default for a process whose
// machine's root is fsys, and where it comes from, for the log.
func defaultMemoryLimit(fsys fs.FS) (memoryLimit, string) {
	limit, ok, err := cgroupMemoryLimit(fsys)
	switch {
	case err != nil:
		return DefaultMemoryLimit, fmt.Sprintf("default (the cgroup's memory limit is unreadable: %v)", err)
	case !ok:
		return DefaultMemoryLimit, "default (no cgroup memory limit)"
	}
	return memoryLimit(limit / 100 * CgroupMemoryPercent), fmt.Sprintf("%d%% of the cgroup's memory limit, %d bytes", CgroupMemoryPercent, limit)
}

// gcSettings are the garbage collector's settings of the process, as Go's
// GOGC and GOMEMLIMIT take them.
type gcSettings struct {
	percent     gcPercent
	memoryLimit memoryLimit // 0: not given, defaultMemoryLimit's
	limitFrom   string      // where memoryLimit comes from, for the log
}

// resolve sets the memory limit to its default when neither -memory-limit
// nor GOMEMLIMIT gave one.
func (g *gcSettings) resolve() {
	switch {
	case g.memoryLimit == 0:
		g.memoryLimit, g.limitFrom = defaultMemoryLimit(hostFS)
	case g.limitFrom == "":
		g.limitFrom = "-memory-limit or GOMEMLIMIT"
	}
}

// apply sets them for the process and returns what puts back the settings
// before (run may be called more than once in a process: tests).
func (g gcSettings) apply() (restore func()) {
	percent := debug.SetGCPercent(int(g.percent))
	limit := debug.SetMemoryLimit(int64(g.memoryLimit))
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}

// gcPercent is a flag.Value: a percent (0 or more) or "off" (-1).
type gcPercent int

func (p gcPercent) String() string {
	if p < 0 {
		return "off"
	}
	return strconv.Itoa(int(p))
}

func (p *gcPercent) Set(s string) error {
	if s == "off" {
		*p = -1
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a percent (0 or more) or \"off\"", s)
	}
	*p = gcPercent(n)
	return nil
}

// memoryLimit is a flag.Value: bytes, as GOMEMLIMIT takes them, or "off"
// (no limit).
type memoryLimit int64

func (l memoryLimit) String() string {
	switch {
	case l == 0:
		return "" // not given
	case l == math.MaxInt64:
		return "off"
	case l > 0 && l%(1<<20) == 0:
		return strconv.FormatInt(int64(l)>>20, 10) + "MiB"
	}
	return strconv.FormatInt(int64(l), 10)
}

func (l *memoryLimit) Set(s string) error {
	if s == "off" {
		*l = math.MaxInt64
		return nil
	}
	number, unit := s, int64(1)
	for _, u := range []struct {
		suffix string
		bytes  int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			number, unit = n, u.bytes
			break
		}
	}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit {
		return fmt.Errorf("%q is not a memory size (bytes, or with a B, KiB, MiB, GiB or TiB suffix) or \"off\"", s)
	}
	*l = memoryLimit(n * unit)
	return nil
}
