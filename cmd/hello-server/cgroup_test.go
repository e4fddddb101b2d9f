package main

import (
	"fmt"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// cgroupV2 is the machine's root as a container limited to limit bytes
// sees it under cgroup v2 with its own cgroup namespace (Kubernetes'
// default): its cgroup is the root of the mount.
func cgroupV2(limit int64) fstest.MapFS {
	return fstest.MapFS{
		"proc/self/cgroup":         {Data: []byte("0::/\n")},
		"proc/self/mountinfo":      {Data: []byte("30 22 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n")},
		"sys/fs/cgroup/memory.max": {Data: []byte(strconv.FormatInt(limit, 10) + "\n")},
	}
}

// hybridV1 is a machine with cgroup v1's memory controller and an unused v2
// hierarchy beside it (as this project's CI has), the process in
// /process_api/job.
func hybridV1(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{
		"proc/self/cgroup": {Data: []byte("9:name=systemd:/\n4:memory:/process_api/job\n1:cpu:/\n0::/\n")},
		"proc/self/mountinfo": {Data: []byte("34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
			"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n")},
	}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func TestCgroupMemoryLimit(t *testing.T) {
	t.Parallel()
	const v1 = "sys/fs/cgroup/memory/"
	for _, tt := range []struct {
		name  string
		fsys  fstest.MapFS
		limit int64 // 0: none
		err   bool
	}{
		{"v2 container", cgroupV2(512 << 20), 512 << 20, false},
		{"v2 no limit", fstest.MapFS{
			"proc/self/cgroup":         {Data: []byte("0::/\n")},
			"proc/self/mountinfo":      {Data: []byte("30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")},
			"sys/fs/cgroup/memory.max": {Data: []byte("max\n")},
		}, 0, false},
		{"v2 host view, the pod's limit below the container's", fstest.MapFS{
			"proc/self/cgroup":                          {Data: []byte("0::/kubepods/pod1/c1\n")},
			"proc/self/mountinfo":                       {Data: []byte("30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")},
			"sys/fs/cgroup/kubepods/pod1/c1/memory.max": {Data: []byte("1073741824\n")},
			"sys/fs/cgroup/kubepods/pod1/memory.max":    {Data: []byte("805306368\n")},
			"sys/fs/cgroup/kubepods/memory.max":         {Data: []byte("max\n")},
		}, 805306368, false},
		{"v1, unlimited", hybridV1(map[string]string{v1 + "process_api/job/memory.limit_in_bytes": "9223372036854771712\n",
			v1 + "memory.limit_in_bytes": "9223372036854771712\n"}), 0, false},
		{"v1, limited", hybridV1(map[string]string{v1 + "process_api/job/memory.limit_in_bytes": "536870912\n",
			v1 + "process_api/memory.limit_in_bytes": "9223372036854771712\n"}), 512 << 20, false},
		{"v1 container, its cgroup mounted as the root", fstest.MapFS{
			"proc/self/cgroup":                            {Data: []byte("4:memory:/docker/abc\n")},
			"proc/self/mountinfo":                         {Data: []byte(`34 30 0:31 /docker/abc /sys/fs/cgroup/mem\040ory rw - cgroup cgroup rw,memory` + "\n")},
			"sys/fs/cgroup/mem ory/memory.limit_in_bytes": {Data: []byte("268435456\n")},
		}, 256 << 20, false},
		{"no /proc (not Linux)", fstest.MapFS{}, 0, false},
		{"no cgroup mount", fstest.MapFS{
			"proc/self/cgroup":    {Data: []byte("0::/\n")},
			"proc/self/mountinfo": {Data: []byte("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")},
		}, 0, false},
		{"a limit of 0, which no kernel writes", cgroupV2(0), 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			limit, ok, err := cgroupMemoryLimit(tt.fsys)
			assert.Equal(t, err != nil, tt.err, fmt.Sprintf("error (%v)", err))
			assert.Equal(t, ok, tt.limit != 0, "a limit found")
			assert.Equal(t, limit, tt.limit, "limit")
		})
	}
}

func TestDefaultMemoryLimit(t *testing.T) {
	t.Parallel()
	limit, from := defaultMemoryLimit(cgroupV2(512 << 20))
	assert.Equal(t, limit, memoryLimit(483183810), "90% of 512 MiB")
	assert.Equal(t, from, "90% of the cgroup's memory limit, 536870912 bytes", "where it comes from")
	limit, from = defaultMemoryLimit(fstest.MapFS{})
	assert.Equal(t, limit, memoryLimit(DefaultMemoryLimit), "without a cgroup limit")
	assert.Equal(t, from, "default (no cgroup memory limit)", "where it comes from")
	limit, from = defaultMemoryLimit(cgroupV2(0))
	assert.Equal(t, limit, memoryLimit(DefaultMemoryLimit), "with an unreadable cgroup limit")
	assert.Contains(t, from, `"0" is not a memory limit`, "where it comes from")
}
