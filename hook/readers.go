package hook

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wikiflow/wikiflow/client"
)

// Readers decides who may see a process through the endpoint. The list and
// the status answer a process only when MayRead says yes; an error counts
// as no, so a wiki that cannot be asked hides its processes rather than
// showing them.
type Readers interface {
	// MayRead tells whether viewer (a user name the wiki vouches for with
	// its signature; "" for a reader who is not logged in) may see p.
	MayRead(ctx context.Context, viewer string, p Process) (bool, error)
}

// Process is what a visibility decision is about.
type Process struct {
	ID        string
	Kind      string
	Wiki      string
	Requester string
}

// ParamViewer is the query parameter of every read naming the user the
// page is shown to.
const ParamViewer = "viewer"

// checkViewer refuses a viewer that cannot be a MediaWiki user name; the
// API would read "A|B" as two users.
func checkViewer(v string) error {
	if len(v) > 255 || !utf8.ValidString(v) || strings.ContainsAny(v, "|#<>[]{}") || strings.TrimSpace(v) != v {
		return fmt.Errorf("invalid viewer %q", v)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("invalid viewer %q", v)
		}
	}
	return nil
}

// visibility memoises decisions for one request: a list names the same
// wiki many times.
type visibility struct {
	s      *Server
	viewer string
	seen   map[Process]bool
}

func (s *Server) visibility(viewer string) *visibility {
	return &visibility{s: s, viewer: viewer, seen: map[Process]bool{}}
}

// may tells whether the viewer may see p; without Readers, or when they
// fail, nothing is shown.
func (v *visibility) may(ctx context.Context, p Process) bool {
	if ok, done := v.seen[p]; done {
		return ok
	}
	ok := false
	if v.s.Readers != nil {
		var err error
		ok, err = v.s.Readers.MayRead(ctx, v.viewer, p)
		if err != nil {
			ok = false
			if v.s.Logger != nil {
				v.s.Logger.Warn("visibility check failed; the process is not shown", "process", p.ID, "viewer", v.viewer, "error", err)
			}
		}
	}
	v.seen[p] = ok
	return ok
}

// processOf names a list entry for a decision.
func processOf(it client.ListItem) Process {
	p := Process{ID: it.ID, Kind: it.Kind, Wiki: it.Wiki, Requester: it.Requester}
	if p.Kind == "" {
		p.Kind = client.KindOf(it.ID)
	}
	return p
}
