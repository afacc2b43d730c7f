package client

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
)

// ChangeSetting asks for a ManageWiki setting change; value is JSON. An
// unknown setting or an invalid value is refused before any process starts.
func (c *Client) ChangeSetting(ctx context.Context, db, setting, value, requester, reason string) (process.Status, error) {
	if err := ValidateDBName(db); err != nil {
		return process.Status{}, err
	}
	reg, err := c.Settings()
	if err != nil {
		return process.Status{}, err
	}
	normalized, err := reg.Check(setting, json.RawMessage(value))
	if err != nil {
		return process.Status{}, refused("%v", err)
	}
	o := c.stewardOptions()
	id := changesetting.ChangeSettingID(db, setting)
	return c.start(ctx, c.startOptions(id, changesetting.KindChangeSetting, db, requester, fmt.Sprintf("Set %s on %s to %s", setting, db, normalized)),
		changesetting.ChangeSetting, changesetting.ChangeSettingInput{
			Wiki: db, Setting: setting, Value: string(normalized), Requester: requester, Reason: reason,
			Options: o, Definition: changesetting.ChangeSettingDefinition(o),
		})
}
