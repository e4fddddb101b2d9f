package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// cgroupMemoryLimit returns the memory limit of the cgroup the process runs
// in, as Linux enforces it (a container's limit, a systemd unit's
// MemoryMax): the smallest one set on the cgroup and its ancestors up to the
// root of the mount, in bytes; ok is false when none is set. It reads
// cgroup v1's memory controller when the process has one (memory.
// limit_in_bytes), else cgroup v2 (memory.max). fsys is the machine's root
// ("proc/self/cgroup", "sys/fs/cgroup/...").
func cgroupMemoryLimit(fsys fs.FS) (limit int64, ok bool, err error) {
	groups, err := fs.ReadFile(fsys, "proc/self/cgroup")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, false, nil // not Linux, or no /proc: no cgroup
		}
		return 0, false, err
	}
	mounts, err := fs.ReadFile(fsys, "proc/self/mountinfo")
	if err != nil {
		return 0, false, err
	}
	mountPoint, dir, file := cgroupMemoryDir(string(groups), string(mounts))
	if dir == "" {
		return 0, false, nil
	}
	// Walk up to the mount's root: a parent's limit binds its children.
	for d := dir; ; d = path.Dir(d) {
		n, set, err := readMemoryLimit(fsys, path.Join(d, file))
		if err != nil {
			return 0, false, err
		}
		if set && (!ok || n < limit) {
			limit, ok = n, true
		}
		if d == mountPoint || d == "." {
			return limit, ok, nil
		}
	}
}

// cgroupMemoryDir finds the process's memory cgroup: v1's memory hierarchy
// if the process is in one, else v2's unified one. It returns where that
// hierarchy is mounted and the cgroup's directory (both relative to the
// machine's root), and the name of its limit file; dir is "" when the
// process is in neither.
func cgroupMemoryDir(groups, mounts string) (mountPoint, dir, file string) {
	var v1, v2 string // the process's cgroup in each hierarchy
	for line := range strings.Lines(groups) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case containsField(parts[1], ",", "memory"):
			v1 = parts[2]
		}
	}
	for line := range strings.Lines(mounts) {
		// 36 25 0:31 /root /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
		fields := strings.Fields(line)
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+3 >= len(fields) {
			continue
		}
		root, fsType, options := unescape(fields[3]), fields[sep+1], fields[sep+3]
		mountPoint = strings.TrimPrefix(unescape(fields[4]), "/")
		var group string
		switch {
		case v1 != "" && fsType == "cgroup" && containsField(options, ",", "memory"):
			group, file = v1, "memory.limit_in_bytes"
		case v1 == "" && v2 != "" && fsType == "cgroup2":
			group, file = v2, "memory.max"
		default:
			continue
		}
		// The process's cgroup is named from the root of its cgroup
		// namespace, the mount shows the hierarchy from root on: they
		// agree, or the mount is the process's own cgroup (a container's).
		rel, ok := strings.CutPrefix(group, root)
		if !ok || root != "/" && rel != "" && !strings.HasPrefix(rel, "/") {
			rel = ""
		}
		return mountPoint, path.Join(mountPoint, rel), file
	}
	return "", "", ""
}

// readMemoryLimit reads a limit file: bytes, or "max" (v2) or a number near
// the largest int64 (v1) for none. A missing file (the root cgroup has
// none) sets no limit.
func readMemoryLimit(fsys fs.FS, name string) (limit int64, set bool, err error) {
	b, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false, fmt.Errorf("/%s: %q is not a memory limit", name, s)
	}
	// v1 says "unlimited" with the largest page-aligned int64.
	return n, n < 1<<62, nil
}

func containsField(list, sep, field string) bool {
	for f := range strings.SplitSeq(list, sep) {
		if f == field {
			return true
		}
	}
	return false
}

// unescape undoes mountinfo's octal escapes (a space is \040).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	r := bufio.NewReader(strings.NewReader(s))
	for {
		c, err := r.ReadByte()
		if err != nil {
			return b.String()
		}
		if c == '\\' {
			if oct, err := r.Peek(3); err == nil {
				if n, err := strconv.ParseUint(string(oct), 8, 8); err == nil {
					_, _ = r.Discard(3)
					c = byte(n)
				}
			}
		}
		b.WriteByte(c)
	}
}
