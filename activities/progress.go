package activities

import (
	"context"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/activity"
)

// Progress heartbeats a long file activity (at most every 5 s, with what
// it has done so far, so the Web UI shows it) and stops it when the
// activity is cancelled.
type Progress struct {
	ctx   context.Context
	what  string
	files int
	bytes int64
	last  time.Time
}

func NewProgress(ctx context.Context, what string) *Progress {
	return &Progress{ctx: ctx, what: what, last: time.Now()}
}

func (p *Progress) File() { p.files++; p.beat() }

func (p *Progress) beat() {
	if time.Since(p.last) < 5*time.Second {
		return
	}
	p.last = time.Now()
	if activity.IsActivity(p.ctx) {
		activity.RecordHeartbeat(p.ctx, fmt.Sprintf("%s: %d entries, %d bytes", p.what, p.files, p.bytes))
	}
}

// Writer counts and heartbeats what goes through w.
func (p *Progress) Writer(w io.Writer) io.Writer { return progressWriter{w: w, p: p} }

type progressWriter struct {
	w io.Writer
	p *Progress
}

func (pw progressWriter) Write(b []byte) (int, error) {
	if err := pw.p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := pw.w.Write(b)
	pw.p.bytes += int64(n)
	pw.p.beat()
	return n, err
}
