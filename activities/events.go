package activities

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"time"

	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/farmdb"
)

// NameStoreEvents is the activity that puts a process's events in the outbox.
const NameStoreEvents = "StoreEvents"

type StoreEventsInput struct {
	Events []events.ProcessChange
	// KnownPrivate is what the process knows of its wiki's privacy when the
	// farm does not register the wiki (yet): the privacy it was asked to
	// create the wiki with, or the answer of an earlier call. Nil: nothing
	// is known, and the events count as private.
	KnownPrivate *bool
}

type StoreEventsResult struct {
	// Stored is how many events were new.
	Stored int
	// Private is the privacy the events were stored with.
	Private bool
}

// StoreEvents stores the events once each (farmdb.Outbox.Append skips an id
// already stored), deciding first whether the wiki is private: cw_wikis
// says so for a registered wiki (deleted ones too); otherwise what the
// process knew; otherwise the registration its deletion backed up (a
// restore); otherwise the events are private, since every doubt hides.
func (f *Farm) StoreEvents(ctx context.Context, in StoreEventsInput) (StoreEventsResult, error) {
	if len(in.Events) == 0 {
		return StoreEventsResult{}, nil
	}
	wiki := in.Events[0].Wiki.DB
	private := true
	w, err := f.Central.Wiki(ctx, wiki)
	switch {
	case err == nil:
		private = w.Private
	case !errors.Is(err, farmdb.ErrWikiNotFound):
		return StoreEventsResult{}, err
	case in.KnownPrivate != nil:
		private = *in.KnownPrivate
	default:
		if known, ok := f.backedUpPrivacy(wiki); ok {
			private = known
		}
	}
	at := time.Now()
	stored := make([]farmdb.StoredEvent, len(in.Events))
	for i, ev := range in.Events {
		ev.Meta.DT = events.FormatTime(at)
		if u, err := url.Parse(f.API.BaseURL(wiki)); err == nil {
			ev.Meta.Domain = u.Hostname()
		}
		ev.Meta.URI = f.API.BaseURL(f.Rules.CentralWiki) + "/index.php?title=Special:Processes/" + url.QueryEscape(ev.Process.ID)
		ev.Wiki.IsPrivate = private
		body, err := json.Marshal(ev)
		if err != nil {
			return StoreEventsResult{}, err
		}
		stored[i] = farmdb.StoredEvent{ID: ev.Meta.ID, Stream: ev.Meta.Stream, Wiki: wiki, Private: private, Time: at, Body: body}
	}
	n, err := farmdb.Outbox{Central: f.Central}.Append(ctx, stored)
	return StoreEventsResult{Stored: n, Private: private}, err
}

// backedUpPrivacy is wiki_private in the registration the wiki's newest
// verified backup holds; false when there is none or it cannot be read.
func (f *Farm) backedUpPrivacy(wiki string) (private, ok bool) {
	if f.Backup.Dir == "" {
		return false, false
	}
	found, err := f.VerifiedBackups(wiki)
	if err != nil || len(found) == 0 || found[0].Manifest.Rows == nil {
		return false, false
	}
	b, err := ReadRows(found[0].Part(found[0].Manifest.Rows.File))
	if err != nil {
		return false, false
	}
	reg := b.Tables["cw_wikis"]
	col := slices.Index(reg.Columns, "wiki_private")
	if col < 0 || len(reg.Rows) != 1 || reg.Rows[0][col].Null {
		return false, false
	}
	return string(reg.Rows[0][col].Bytes) == "1", true
}
