package faults

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/kumocloud/kumo/internal/errs"
)

// file is a --faults file: a list of rules under "faults".
type file struct {
	Faults []Rule `yaml:"faults"`
}

// ParseFile reads the rules of a --faults file, each checked as the API
// checks a new rule; names must be unique in the file (they key the
// rules a later start replaces).
func ParseFile(data []byte) ([]Rule, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("faults file: %w", err)
	}
	seen := map[string]bool{}
	for i := range f.Faults {
		r := &f.Faults[i]
		if err := Normalize(r); err != nil {
			return nil, fmt.Errorf("faults file: fault %d (%s): %s", i+1, r.Name, errs.Message(err))
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("faults file: fault name %q is used twice", r.Name)
		}
		seen[r.Name] = true
	}
	return f.Faults, nil
}
