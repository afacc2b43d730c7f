package client

import (
	"context"
	"fmt"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
)

// DeleteWiki asks for a wiki's deletion.
func (c *Client) DeleteWiki(ctx context.Context, db, requester, reason string) (process.Status, error) {
	if c.Config.Protected(db) {
		return process.Status{}, refused("%s is a protected wiki (the central wiki or processes.protected_wikis): it cannot be deleted", db)
	}
	o := c.deleteOptions()
	return c.startOnWiki(ctx, db, deletewiki.DeleteWikiID(db), deletewiki.KindDeleteWiki, requester,
		fmt.Sprintf("Delete wiki %s, asked by %s: %s", db, requester, reason),
		deletewiki.DeleteWiki, deletewiki.DeleteWikiInput{
			Wiki: db, Requester: requester, Reason: reason, Options: o, Definition: deletewiki.DeleteWikiDefinition(o),
		})
}

// deleteOptions are the farm's choices for deletions.
func (c *Client) deleteOptions() deletewiki.DeleteWikiOptions {
	cfg := c.Config.Processes
	return deletewiki.DeleteWikiOptions{
		CentralWiki: c.Config.MediaWiki.CentralWiki, GracePeriod: cfg.DeletionGracePeriod,
		AttentionWindow: cfg.AttentionWindow, LocalApprovers: cfg.DeletionApprovers, Expiry: cfg.ApprovalExpiry,
		ProtectedWikis: cfg.ProtectedWikis, RetryBudget: cfg.TransientRetryBudget,
	}
}

// Undelete reopens a wiki during its deletion's grace period.
func (c *Client) Undelete(ctx context.Context, id, user string) (process.Status, error) {
	if _, err := c.update(ctx, id, process.UpdateUndelete, process.DecisionSignal{User: user}); err != nil {
		return process.Status{}, err
	}
	return c.Status(ctx, id)
}
