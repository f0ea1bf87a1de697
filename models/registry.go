package models

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gradlab/gradlab/datasets"
	"github.com/gradlab/gradlab/models/charlm"
	"github.com/gradlab/gradlab/models/cnn"
	"github.com/gradlab/gradlab/models/mlp"
	"github.com/gradlab/gradlab/models/tabular"
	"github.com/gradlab/gradlab/nn"
)

// Entry is one shipped model: its name, a one-line summary, its default
// configuration, its constructor and the line that describes a
// configuration. The configuration is a struct whose fields tagged
// `flag:"name" help:"…"` are the model's command-line flags (int, float64,
// bool, string, or []int as a comma-separated list); a field named Seed is
// set from the run's seed. Adding a model to gradlab is one entry.
type Entry struct {
	Name, Summary string
	def           func() any
	build         func(raw json.RawMessage, seed uint64) (*nn.Model, error)
	describe      func(raw json.RawMessage) (string, error)
	fit           func(raw json.RawMessage, d datasets.Dataset) (json.RawMessage, error) // nil: nothing to fit
	check         func(raw json.RawMessage) error                                        // with fit: checks what the user chose
}

// registry lists the shipped models, in the order Names reports them.
var registry = []Entry{
	entry("mlp", "a multilayer perceptron on flattened images", mlp.Default, mlp.New,
		func(c mlp.Config) string {
			return fmt.Sprintf("mlp %d-%v-%d %s", c.Inputs, c.Hidden, c.Classes, c.Activation)
		}),
	entry("cnn", "a convolutional network: conv, batch norm, ReLU, max-pool blocks, then dense layers", cnn.Default, cnn.New, cnn.Config.Name),
	withFit(entry("tabular", "an MLP over a table's columns, for gradlab train -data FILE.csv", tabular.Default, tabular.New, tabular.Config.Name),
		tabular.Fit, tabular.Config.ValidateChoices),
	withFit(entry("charlm", "a character-level language model (transformer, lstm or gru) on a text, for gradlab train -model charlm [-text FILE]", charlm.Default, charlm.New, charlm.Config.Name),
		charlm.Fit, charlm.Config.ValidateChoices),
}

// withFit gives e a step that fills a configuration of type C from the
// training data (Fit).
func withFit[C any](e Entry, fit func(C, datasets.Dataset) (C, error), check func(C) error) Entry {
	e.check = func(raw json.RawMessage) error {
		c, err := decode[C](raw)
		if err == nil {
			err = check(c)
		}
		return err
	}
	e.fit = func(raw json.RawMessage, d datasets.Dataset) (json.RawMessage, error) {
		c, err := decode[C](raw)
		if err != nil {
			return nil, err
		}
		if c, err = fit(c, d); err != nil {
			return nil, err
		}
		return json.Marshal(c)
	}
	return e
}

// Check validates the named model's configuration as far as it can before
// the data is read: a model with nothing to fit is built (and closed), a
// model with a fit step checks the fields the user chose. It returns the
// error Build or Fit would, naming the field.
func Check(name string, cfg json.RawMessage, seed uint64) error {
	e, err := find(name)
	if err != nil {
		return err
	}
	if e.fit != nil {
		if err := e.check(cfg); err != nil {
			return fmt.Errorf("model %s: %w", name, err)
		}
		return nil
	}
	m, err := Build(name, cfg, seed)
	if err != nil {
		return err
	}
	return m.Close()
}

// Fit returns the named model's configuration with what it takes from the
// training data filled in (a tabular model's input width, classes and
// standardization); a model with nothing to fit gets cfg back unchanged.
func Fit(name string, cfg json.RawMessage, train datasets.Dataset) (json.RawMessage, error) {
	e, err := find(name)
	if err != nil || e.fit == nil {
		return cfg, err
	}
	out, err := e.fit(cfg, train)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return out, nil
}

// entry makes the Entry of a configuration type C.
func entry[C any](name, summary string, def func() C, build func(C) (*nn.Model, error), describe func(C) string) Entry {
	return Entry{
		Name: name, Summary: summary,
		def: func() any { return def() },
		build: func(raw json.RawMessage, seed uint64) (*nn.Model, error) {
			c, err := decode[C](raw)
			if err != nil {
				return nil, err
			}
			setSeed(&c, seed)
			return build(c)
		},
		describe: func(raw json.RawMessage) (string, error) {
			c, err := decode[C](raw)
			return describe(c), err
		},
	}
}

// decode reads a configuration of type C strictly: unknown fields are errors.
func decode[C any](raw json.RawMessage) (C, error) {
	var c C
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// setSeed sets the field Seed of the struct *c, if it has one.
func setSeed(c any, seed uint64) {
	if f := reflect.ValueOf(c).Elem().FieldByName("Seed"); f.IsValid() && f.Kind() == reflect.Uint64 {
		f.SetUint(seed)
	}
}

// Entries returns the registry.
func Entries() []Entry { return slices.Clone(registry) }

// Names returns the names Build accepts.
func Names() []string {
	var names []string
	for _, e := range registry {
		names = append(names, e.Name)
	}
	return names
}

func find(name string) (Entry, error) {
	i := slices.IndexFunc(registry, func(e Entry) bool { return e.Name == name })
	if i < 0 {
		return Entry{}, fmt.Errorf("%w: %q; the models are %s", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	return registry[i], nil
}

// Build returns the model called name from its configuration (the JSON of
// its package's Config), with seed as its seed (the configuration's own seed
// field, if any, is replaced).
func Build(name string, cfg json.RawMessage, seed uint64) (*nn.Model, error) {
	e, err := find(name)
	if err != nil {
		return nil, err
	}
	m, err := e.build(cfg, seed)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return m, nil
}

// Describe names a model's configuration briefly, e.g. "mlp 784-[512 256]-10
// relu" or "cnn-16-32-128"; the name alone when the configuration cannot be
// read.
func Describe(name string, cfg json.RawMessage) string {
	e, err := find(name)
	if err != nil {
		return name
	}
	s, err := e.describe(cfg)
	if err != nil {
		return name
	}
	return s
}

// Default returns the default configuration of the named model as JSON.
func Default(name string) (json.RawMessage, error) {
	e, err := find(name)
	if err != nil {
		return nil, err
	}
	return json.Marshal(e.def())
}

// flagVal holds a model flag's text until a model's configuration is made.
type flagVal struct {
	s      string
	isBool bool
}

func (f *flagVal) String() string     { return f.s }
func (f *flagVal) Set(s string) error { f.s = s; return nil }
func (f *flagVal) IsBoolFlag() bool   { return f.isBool }

// field is a configuration field that is a flag.
type field struct {
	index []int
	flag  string
	help  string
}

func flagFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		if name := f.Tag.Get("flag"); name != "" {
			out = append(out, field{f.Index, name, f.Tag.Get("help")})
		}
	}
	return out
}

// Flags registers on fs the flags of every model's configuration (once for
// a flag several models share, with each model's default in its help) and
// returns the function that, after fs.Parse, makes the configuration of
// the named model: its defaults with the flags that were set applied and
// its Seed set to seed. A flag set for a model that does not take it is an
// error naming both; a value that does not parse names the flag.
func Flags(fs *flag.FlagSet) func(model string, seed uint64) (json.RawMessage, error) {
	type info struct {
		val   *flagVal
		help  []string
		defs  []string
		users []string
		kind  string // int, float, string or list
	}
	flags := map[string]*info{}
	var order []string
	for _, e := range registry {
		def := reflect.ValueOf(e.def())
		for _, f := range flagFields(def.Type()) {
			in := flags[f.flag]
			if in == nil {
				v := def.FieldByIndex(f.index)
				in = &info{val: &flagVal{isBool: v.Kind() == reflect.Bool}, kind: map[reflect.Kind]string{
					reflect.Int: "int", reflect.Float64: "float", reflect.String: "string", reflect.Slice: "list"}[v.Kind()]}
				flags[f.flag] = in
				order = append(order, f.flag)
			}
			if !slices.Contains(in.help, f.help) {
				in.help = append(in.help, f.help)
			}
			in.defs = append(in.defs, e.Name+" "+format(def.FieldByIndex(f.index)))
			in.users = append(in.users, e.Name)
		}
	}
	for _, name := range order {
		in := flags[name]
		help := strings.Join(in.help, "; ")
		if len(in.users) < len(registry) {
			help = strings.Join(in.users, ", ") + ": " + help
		}
		kind := "`" + in.kind + "`; " // the placeholder -h shows
		if in.val.isBool {
			kind = ""
		}
		fs.Var(in.val, name, fmt.Sprintf("%s (%sdefault: %s)", help, kind, strings.Join(in.defs, "; ")))
	}
	return func(model string, seed uint64) (json.RawMessage, error) {
		e, err := find(model)
		if err != nil {
			return nil, err
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		cfg := reflect.New(reflect.TypeOf(e.def())).Elem()
		cfg.Set(reflect.ValueOf(e.def()))
		takes := map[string]bool{}
		for _, f := range flagFields(cfg.Type()) {
			takes[f.flag] = true
			if set[f.flag] {
				if err := parse(cfg.FieldByIndex(f.index), flags[f.flag].val.s); err != nil {
					return nil, fmt.Errorf("-%s: %w", f.flag, err)
				}
			}
		}
		for _, name := range order {
			if set[name] && !takes[name] {
				return nil, fmt.Errorf("-%s does not apply to -model %s", name, model)
			}
		}
		setSeed(cfg.Addr().Interface(), seed)
		return json.Marshal(cfg.Interface())
	}
}

// FlagField returns the JSON name of the configuration field that the
// named model's flag sets, and whether the model has that flag.
func FlagField(model, flagName string) (string, bool) {
	e, err := find(model)
	if err != nil {
		return "", false
	}
	t := reflect.TypeOf(e.def())
	for _, f := range flagFields(t) {
		if f.flag == flagName {
			name, _, _ := strings.Cut(t.FieldByIndex(f.index).Tag.Get("json"), ",")
			return name, true
		}
	}
	return "", false
}

// format renders a field's value as a flag takes it.
func format(v reflect.Value) string {
	if v.Kind() == reflect.Slice {
		var parts []string
		for i := range v.Len() {
			parts = append(parts, fmt.Sprint(v.Index(i).Interface()))
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v.Interface())
}

// parse sets v from a flag's text.
func parse(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		v.SetInt(int64(n))
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(x)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		v.SetBool(b)
	case reflect.String:
		v.SetString(s)
	case reflect.Slice:
		var out []int
		if strings.TrimSpace(s) != "" {
			for _, f := range strings.Split(s, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || n <= 0 {
					return fmt.Errorf("%q: %q is not a positive integer", s, f)
				}
				out = append(out, n)
			}
		}
		v.Set(reflect.ValueOf(out))
	default:
		return fmt.Errorf("a field of kind %v cannot be a flag", v.Kind())
	}
	return nil
}
