package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	compiled   = map[string]*jsonschema.Schema{}
	compiledMu sync.Mutex
)

// Validate checks an event's JSON against the schema its $schema names,
// formats (date-time, uri-reference) included, as EventGate does before it
// accepts an event.
func Validate(body []byte) error {
	var head struct {
		Schema string `json:"$schema"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return err
	}
	sch, err := schema(head.Schema)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func schema(uri string) (*jsonschema.Schema, error) {
	compiledMu.Lock()
	defer compiledMu.Unlock()
	if s, ok := compiled[uri]; ok {
		return s, nil
	}
	data, err := Schemas.ReadFile(SchemaFile(uri))
	if err != nil {
		return nil, fmt.Errorf("unknown schema %q", uri)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	url := "https://schema.wikiflow.invalid" + uri
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, err
	}
	compiled[uri] = s
	return s, nil
}
