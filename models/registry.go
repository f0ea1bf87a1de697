package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gradlab/gradlab/models/cnn"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/nn"
)

type entry struct {
	name  string
	build func(cfg json.RawMessage, seed uint64) (*nn.Model, error)
}

// registry lists the shipped models, in the order Names reports them.
var registry = []entry{
	{"mlp", builder(func(c mlp.Config, seed uint64) (*nn.Model, error) { c.Seed = seed; return mlp.New(c) })},
	{"cnn", builder(func(c cnn.Config, seed uint64) (*nn.Model, error) { c.Seed = seed; return cnn.New(c) })},
}

// builder decodes a configuration of type C (strictly: unknown fields are
// errors) and calls build.
func builder[C any](build func(C, uint64) (*nn.Model, error)) func(json.RawMessage, uint64) (*nn.Model, error) {
	return func(raw json.RawMessage, seed uint64) (*nn.Model, error) {
		var c C
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return build(c, seed)
	}
}

// Names returns the names Build accepts.
func Names() []string {
	var names []string
	for _, e := range registry {
		names = append(names, e.name)
	}
	return names
}

// Build returns the model called name from its configuration (the JSON of
// its package's Config), with seed as its seed (the configuration's own seed
// field, if any, is replaced).
func Build(name string, cfg json.RawMessage, seed uint64) (*nn.Model, error) {
	i := slices.IndexFunc(registry, func(e entry) bool { return e.name == name })
	if i < 0 {
		return nil, fmt.Errorf("%w: %q; the models are %s", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	m, err := registry[i].build(cfg, seed)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return m, nil
}
