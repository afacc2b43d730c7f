package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// A setting is one configuration key: a field of Config that is not a section.
type setting struct {
	key   string
	index []int // the field's path from Config, for reflect's FieldByIndex
	typ   reflect.Type
	tag   reflect.StructTag
}

// settings are all the keys in the order of Config's fields; byKey finds one.
var (
	settings = collect(reflect.TypeFor[Config](), "", nil)
	byKey    = index(settings)
)

func collect(t reflect.Type, prefix string, path []int) []setting {
	var out []setting
	for i := range t.NumField() {
		f := t.Field(i)
		key := f.Tag.Get("mapstructure")
		if prefix != "" {
			key = prefix + "." + key
		}
		fieldPath := append(append([]int(nil), path...), i)
		if f.Type.Kind() == reflect.Struct {
			out = append(out, collect(f.Type, key, fieldPath)...)
			continue
		}
		out = append(out, setting{key: key, index: fieldPath, typ: f.Type, tag: f.Tag})
	}
	return out
}

func index(list []setting) map[string]setting {
	m := make(map[string]setting, len(list))
	for _, s := range list {
		m[s.key] = s
	}
	return m
}

// Keys lists every configuration key, sorted; README documents each of them.
func Keys() []string {
	keys := make([]string, 0, len(settings))
	for _, s := range settings {
		keys = append(keys, s.key)
	}
	sort.Strings(keys)
	return keys
}

// Default returns the default of a key as its tag writes it (the form of an
// environment variable), for documentation.
func Default(key string) string { return byKey[key].tag.Get("default") }

func envName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// field is the setting's field in c.
func (s setting) field(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(s.index)
}

func (s setting) secret() bool { return s.tag.Get("secret") == "true" }

// defaultValue is the value Load starts from: the default tag read like an
// environment variable, or else an empty value of the field's type.
func (s setting) defaultValue() (any, error) {
	text, ok := s.tag.Lookup("default")
	if ok {
		return s.fromText(text)
	}
	switch s.typ.Kind() {
	case reflect.Slice:
		return reflect.MakeSlice(s.typ, 0, 0).Interface(), nil
	case reflect.Map:
		return reflect.MakeMap(s.typ).Interface(), nil
	}
	return reflect.Zero(s.typ).Interface(), nil
}

// fromText reads a value written as text (an environment variable, a flag, a
// default tag): lists are space-separated, maps are name=value pairs
// separated by commas, anything else is decoded from the string.
func (s setting) fromText(text string) (any, error) {
	switch {
	case s.typ.Kind() == reflect.Slice && s.typ.Elem().Kind() == reflect.String:
		return strings.Fields(text), nil
	case s.typ.Kind() == reflect.Map:
		m := map[string]string{}
		for _, pair := range strings.Split(text, ",") {
			name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok {
				return nil, &Error{Key: s.key, Msg: "want name=value[,name=value...]"}
			}
			m[name] = value
		}
		return m, nil
	}
	return text, nil
}

// keyOf is the key of one of c's fields, given its address, so that a
// message names a key without writing it again.
func keyOf(c *Config, field any) string {
	p := reflect.ValueOf(field)
	for _, s := range settings {
		if f := s.field(c); f.Addr().Pointer() == p.Pointer() && f.Type() == p.Type().Elem() {
			return s.key
		}
	}
	panic(fmt.Sprintf("config: %T is not the address of a key's field", field))
}
