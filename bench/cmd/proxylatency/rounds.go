package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"
)

// slow is a call's latency that no unary call on loopback should reach:
// HAProxy's 200 ms stalls, not a loaded machine's scheduling.
const slow = 100 * time.Millisecond

// stats are one measurement's latencies: the median, the 99th percentile,
// the slowest call, and how many calls took slow or more.
type stats struct {
	p50, p99, max time.Duration
	slow          int
}

func statsOf(sorted []time.Duration) stats {
	at := func(q float64) time.Duration { return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))] }
	fast, _ := slices.BinarySearch(sorted, slow)
	return stats{at(0.50), at(0.99), sorted[len(sorted)-1], len(sorted) - fast}
}

// results are the stats of each round, by scenario and server name.
type results map[string]map[string][]stats

// rounds deploys each server in turn and measures every scenario against
// it, the servers and the scenarios in orders that move by one each round.
func rounds(ctx context.Context, cfg config) (results, error) {
	dir, err := os.MkdirTemp("", "proxylatency")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	res := make(results)
	for round := range cfg.rounds {
		for i := range cfg.servers {
			s := cfg.servers[(i+round)%len(cfg.servers)]
			d, err := deploy(ctx, cfg, s, dir)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			for j := range scenarios {
				sc := scenarios[(j+round)%len(scenarios)] // none always first after the deployment starts
				latencies, err := measure(ctx, sc, d, cfg.calls, cfg.workers)
				if err != nil {
					d.stop()
					return nil, fmt.Errorf("%s: %w", s.name, err)
				}
				st := statsOf(latencies)
				fmt.Fprintf(os.Stderr, "round %d  %-34s %-8s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  %d of %d ≥ %v\n",
					round+1, sc.name, s.name, ms(st.p50), ms(st.p99), ms(st.max), st.slow, len(latencies), slow)
				if res[sc.name] == nil {
					res[sc.name] = make(map[string][]stats)
				}
				res[sc.name][s.name] = append(res[sc.name][s.name], st)
			}
			d.stop()
		}
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// printTable prints, per scenario and server, the medians over the rounds
// of p50, p99 and the slowest call, the calls that took slow or more in all
// rounds, and the median of the per-round ratios of its p99 to the first
// server's.
func printTable(cfg config, res results) {
	first := cfg.servers[0].name
	fmt.Printf("| scenario | server | p50 ms | p99 ms | max ms | calls ≥ %v | p99 / %s |\n|---|---|---|---|---|---|---|\n", slow, first)
	for _, sc := range scenarios {
		for _, s := range cfg.servers {
			rs := res[sc.name][s.name]
			var p50, p99, top, ratio []float64
			slowCalls := 0
			for i, r := range rs {
				slowCalls += r.slow
				p50, p99, top = append(p50, ms(r.p50)), append(p99, ms(r.p99)), append(top, ms(r.max))
				ratio = append(ratio, ms(r.p99)/ms(res[sc.name][first][i].p99))
			}
			fmt.Printf("| %s | %s | %.2f | %.2f | %.1f | %d of %d | %.2f× |\n", sc.name, s.name,
				median(p50), median(p99), median(top), slowCalls, len(rs)*cfg.calls, median(ratio))
		}
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
