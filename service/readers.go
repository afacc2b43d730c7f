package service

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/hook"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// WikiReaders is the farm's rule of who may see a process through the hook
// (docs/hook.md, "Private wikis"). A public wiki's processes are shown to
// everyone. A private wiki's are shown to the process's requester and to
// those MediaWiki says hold read on that wiki; a wiki request (or the
// creation of a wiki not registered yet) also to the wiki creators of the
// central wiki, who review it. A process whose wiki's privacy cannot be
// told or asked (a deleted wiki, whose rows may be gone) counts as private,
// and is shown to its requester and to the central wiki's stewards.
//
// Every doubt hides: a wiki that does not answer the rights question (not
// created yet, deleted, or readapidenied to the worker's account) grants
// nobody.
type WikiReaders struct {
	Central     *farmdb.Central
	API         *mediawiki.Client
	Temporal    client.Client
	CentralWiki string
}

var _ hook.Readers = (*WikiReaders)(nil)

// Readers is the farm's visibility rule over the live connections.
func (d *Deps) Readers() *WikiReaders {
	return &WikiReaders{Central: d.Central, API: d.API, Temporal: d.Temporal, CentralWiki: d.Config.MediaWiki.CentralWiki}
}

// privacy is what is known of a process's wiki.
type privacy int

const (
	public     privacy = iota
	private            // cw_wikis says so: the wiki answers who reads it
	privateNew         // a wiki asked for (request or creation) and not registered
	unknown            // not registered and nothing says what it was
)

// MayRead implements hook.Readers.
func (r *WikiReaders) MayRead(ctx context.Context, viewer string, p hook.Process) (bool, error) {
	priv, err := r.privacy(ctx, p)
	if err != nil {
		return false, err
	}
	if priv == public {
		return true, nil
	}
	if viewer == "" {
		return false, nil
	}
	if p.Requester != "" && viewer == p.Requester {
		return true, nil
	}
	switch priv {
	case private:
		if ok, err := r.holds(ctx, p.Wiki, viewer, "read"); ok || err != nil {
			return ok, err
		}
		if p.Kind == requestwiki.KindRequestWiki {
			return r.holds(ctx, r.CentralWiki, viewer, process.RightCreateWiki)
		}
		return false, nil
	case privateNew:
		return r.holds(ctx, r.CentralWiki, viewer, process.RightCreateWiki)
	default:
		return r.holds(ctx, r.CentralWiki, viewer, process.RightManageWikiRestricted)
	}
}

// holds asks wiki whether user holds right there. A wiki that does not
// answer for the user (readapidenied on a private wiki, a wiki that is gone)
// grants nothing: that is a "no", not an error.
func (r *WikiReaders) holds(ctx context.Context, wiki, user string, right process.Right) (bool, error) {
	u, err := r.API.User(ctx, wiki, user)
	var apiErr *mediawiki.APIError
	switch {
	case errors.As(err, &apiErr), errors.Is(err, mediawiki.ErrUnknownWiki):
		return false, nil
	case err != nil:
		return false, err
	}
	return !u.Missing && !u.Invalid && u.Has(string(right)), nil
}

// privacy tells what is known of p's wiki: cw_wikis for a registered wiki;
// for one that is not, the wiki requests filed for the name (cw_requests)
// or the wiki the process itself was asked to create.
func (r *WikiReaders) privacy(ctx context.Context, p hook.Process) (privacy, error) {
	w, err := r.Central.Wiki(ctx, p.Wiki)
	switch {
	case err == nil && w.Private && w.Deleted:
		// A deleted wiki answers 410: nobody can be asked about it.
		return unknown, nil
	case err == nil && w.Private:
		return private, nil
	case err == nil:
		return public, nil
	case !errors.Is(err, farmdb.ErrWikiNotFound):
		return unknown, err
	}
	if p.Kind != requestwiki.KindRequestWiki && p.Kind != createwiki.KindCreateWiki {
		return unknown, nil
	}
	if p.Kind == requestwiki.KindRequestWiki {
		// Any private request for the name hides them all: the list does
		// not say which request a run filed.
		filed, anyPrivate, err := r.Central.RequestsFiledFor(ctx, p.Wiki)
		if err != nil {
			return unknown, err
		}
		if anyPrivate {
			return privateNew, nil
		}
		if filed > 0 {
			return public, nil
		}
	}
	spec, err := r.askedFor(ctx, p.ID)
	if err != nil {
		return unknown, err
	}
	if spec.Private {
		return privateNew, nil
	}
	return public, nil
}

// askedFor reads the wiki a creation or a request was started with, from
// the first event of its (latest run's) history.
func (r *WikiReaders) askedFor(ctx context.Context, id string) (process.WikiSpec, error) {
	iter := r.Temporal.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !iter.HasNext() {
		return process.WikiSpec{}, fmt.Errorf("%s has no history", id)
	}
	ev, err := iter.Next()
	if err != nil {
		return process.WikiSpec{}, err
	}
	payloads := ev.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	if len(payloads) == 0 {
		return process.WikiSpec{}, fmt.Errorf("%s was started without input", id)
	}
	// CreateWikiInput and RequestWikiInput both carry the wiki as Wiki.
	var in struct{ Wiki process.WikiSpec }
	if err := converter.GetDefaultDataConverter().FromPayload(payloads[0], &in); err != nil {
		return process.WikiSpec{}, fmt.Errorf("%s: reading its input: %v", id, err)
	}
	return in.Wiki, nil
}
