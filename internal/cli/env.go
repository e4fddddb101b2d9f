// Package cli holds what hellorpc's commands share: flags that fall back to
// environment variables, and a log writer that batches lines off the
// request path.
package cli

import (
	"flag"
	"fmt"
)

// ApplyEnv sets every flag of fs that was not given on the command line from
// the environment variable that envNames maps its name to, when that variable
// is set and non-empty. Call it after fs.Parse. An invalid value is an error
// naming the variable and the value.
func ApplyEnv(fs *flag.FlagSet, envNames map[string]string, getenv func(string) string) error {
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, env := range envNames {
		if given[name] {
			continue
		}
		value := getenv(env)
		if value == "" {
			continue
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("environment variable %s=%q: %w", env, value, err)
		}
	}
	return nil
}
