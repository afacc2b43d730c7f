package client

import (
	"context"
	"fmt"
	"strings"

	"github.com/wikiflow/wikiflow/extensions"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/extension"
)

// Extensions is the farm's extension registry, read once per client.
func (c *Client) Extensions() (*extensions.Registry, error) {
	c.extensionsOnce.Do(func() {
		c.extensions, c.extensionsErr = extensions.Load(c.Config.MediaWiki.ExtensionRegistry)
		if c.extensionsErr != nil {
			c.extensionsErr = &UsageError{Msg: "mediawiki.extension_registry: " + c.extensionsErr.Error()}
		}
	})
	return c.extensions, c.extensionsErr
}

// EnableExtension asks for an extension on a wiki; an extension the
// registry does not list is refused before any process starts.
func (c *Client) EnableExtension(ctx context.Context, db, name, requester, reason string) (process.Status, error) {
	return c.changeExtension(ctx, db, name, requester, reason, true)
}

// DisableExtension asks for an extension to be turned off on a wiki (its
// tables and rows stay).
func (c *Client) DisableExtension(ctx context.Context, db, name, requester, reason string) (process.Status, error) {
	return c.changeExtension(ctx, db, name, requester, reason, false)
}

func (c *Client) changeExtension(ctx context.Context, db, name, requester, reason string, enable bool) (process.Status, error) {
	reg, err := c.Extensions()
	if err != nil {
		return process.Status{}, err
	}
	e, ok := reg.Get(name)
	if !ok {
		return process.Status{}, refused("unknown extension %q (the registry lists %s)", name, strings.Join(reg.Names(), ", "))
	}
	o := c.stewardOptions()
	def := extension.Definition(e, enable, o)
	verb := "Disable"
	if enable {
		verb = "Enable"
	}
	return c.startOnWiki(ctx, db, extension.ChangeID(def.Kind, db, e.Name), def.Kind, requester,
		fmt.Sprintf("%s %s on %s", verb, e.Name, db), extension.ChangeExtension, extension.Input{
			Wiki: db, Extension: e.Name, Enable: enable, Requester: requester, Reason: reason, Options: o, Definition: def,
		})
}
