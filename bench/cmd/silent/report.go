package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// result is what one run measured.
type result struct {
	label, variant string
	opened         int
	endings        []ending // how the server ended held streams, during the hold
	hold           time.Duration
	before         gauges
	peak           peaks
	calls          []call
}

// header is the table's header and separator.
const header = "| build | variant | streams opened / held at peak | how the server ended them (s from their opening) | goroutines before → peak | RSS before → peak | normal SayHello OK / total | OK p50 / max | refused normal calls (first … last) |\n" +
	"|---|---|---|---|---|---|---|---|---|"

// row is the result's line of the table.
func (r result) row() string {
	return fmt.Sprintf("| %s | %s | %d / %d | %s | %s → %s | %s → %s | %s | %s | %s |",
		r.label, r.variant, r.opened, r.peak.held, endingsSummary(r.endings, r.opened, r.hold),
		count(r.before.goroutines), count(r.peak.goroutines), mib(r.before.rss), mib(r.peak.rss),
		okOfTotal(r.calls), latencies(r.calls), refusals(r.calls))
}

// endingsSummary groups the endings by how, in order of the first of each,
// and counts the streams still held when the hold ended.
func endingsSummary(endings []ending, opened int, hold time.Duration) string {
	type group struct {
		how         string
		n           int
		first, last time.Duration
	}
	var groups []*group
	for _, e := range endings {
		i := slices.IndexFunc(groups, func(g *group) bool { return g.how == e.how })
		if i < 0 {
			groups = append(groups, &group{how: e.how, first: e.at, last: e.at})
			i = len(groups) - 1
		}
		g := groups[i]
		g.n++
		g.first, g.last = min(g.first, e.at), max(g.last, e.at)
	}
	slices.SortStableFunc(groups, func(a, b *group) int { return int(a.first - b.first) })
	var parts []string
	for _, g := range groups {
		when := secs(g.first)
		if g.last != g.first {
			when += "–" + secs(g.last)
		}
		parts = append(parts, fmt.Sprintf("%d %s at %s", g.n, g.how, when))
	}
	if left := opened - len(endings); left > 0 {
		parts = append(parts, fmt.Sprintf("%d still held at %s (the end)", left, secs(hold)))
	}
	if len(parts) == 0 {
		return "none opened"
	}
	return strings.Join(parts, "; ")
}

func okOfTotal(calls []call) string {
	n := 0
	for _, c := range calls {
		if c.ok {
			n++
		}
	}
	return fmt.Sprintf("%d / %d", n, len(calls))
}

// latencies gives the median and the slowest of the OK calls.
func latencies(calls []call) string {
	var ok []time.Duration
	for _, c := range calls {
		if c.ok {
			ok = append(ok, c.latency)
		}
	}
	if len(ok) == 0 {
		return "-"
	}
	slices.Sort(ok)
	return fmt.Sprintf("%s / %s", ms(ok[(len(ok)-1)/2]), ms(ok[len(ok)-1]))
}

// refusals names the first failed call (how, when) and when the last was.
func refusals(calls []call) string {
	var failed []call
	for _, c := range calls {
		if !c.ok {
			failed = append(failed, c)
		}
	}
	if len(failed) == 0 {
		return "none"
	}
	first, last := failed[0], failed[len(failed)-1]
	s := fmt.Sprintf("%d: first %s at %s", len(failed), first.how, secs(first.at))
	if len(failed) > 1 {
		s += fmt.Sprintf(", last at %s", secs(last.at))
	}
	return s
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string {
	if b < 0 {
		return "?"
	}
	return fmt.Sprintf("%d MiB", b>>20)
}

func count(n int) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprint(n)
}
