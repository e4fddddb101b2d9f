package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hellorpc/hellorpc/cmd/hello-interop/interop"
)

// The markers around the table in the README.
const (
	beginMarker = "<!-- interop table: begin (go run ./cmd/hello-interop -readme docs/interop.md) -->"
	endMarker   = "<!-- interop table: end -->"
)

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hello-interop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	readme := fs.String("readme", "", "also write the table into this `file`, between its interop markers")
	root := fs.String("root", ".", "the project's root `directory`")
	verbose := fs.Bool("v", false, "log each cell as it runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := interop.Options{Root: *root}
	if *verbose {
		opts.Log = stderr
	}
	results, err := interop.Run(ctx, opts)
	if err != nil {
		return err
	}
	table := interop.Table(results)
	fmt.Fprint(stdout, table)
	if *readme != "" {
		if err := replaceTable(*readme, table); err != nil {
			return err
		}
	}
	failed, missing := 0, 0
	for _, r := range results {
		switch r.Status {
		case interop.Fail:
			failed++
		case interop.Missing:
			missing++
		}
	}
	fmt.Fprintf(stdout, "\n%d cells: %d failed, %d missing\n", len(results), failed, missing)
	if failed > 0 {
		return fmt.Errorf("%d cells failed", failed)
	}
	if missing > 0 && getenv("HELLORPC_REQUIRE_ALL") == "1" {
		return fmt.Errorf("%d cells have no client installed (HELLORPC_REQUIRE_ALL=1)", missing)
	}
	return nil
}

// replaceTable writes table between the markers of the file at path.
func replaceTable(path, table string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	begin, end := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if begin < 0 || end < begin {
		return errors.New(path + " has no interop markers")
	}
	s = s[:begin+len(beginMarker)] + "\n" + table + s[end:]
	return os.WriteFile(path, []byte(s), 0o644)
}
