package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wikiflow/wikiflow/farmdb"
	"go.temporal.io/sdk/activity"
)

// Defaults of BackupConfig.
const (
	DefaultDumpCommand   = "mariadb-dump"
	DefaultClientCommand = "mariadb"
)

// RunTool runs one of MariaDB's command-line tools against a cluster:
// --no-defaults (no option file changes what is connected to), the
// connection arguments, then args. The password travels in MYSQL_PWD, never
// in argv. The activity heartbeats while the tool runs.
func (f *Farm) RunTool(ctx context.Context, command string, conn farmdb.ToolConnection, args []string, stdin io.Reader, stdout io.Writer) error {
	argv := append([]string{"--no-defaults"}, conn.Args...)
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, command, argv...)
	env := make([]string, 0, len(os.Environ())+1)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "MYSQL_PWD=") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, conn.Env())
	cmd.Stdin = stdin
	cmd.Stdout = stdout
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 64 << 10}
	cmd.WaitDelay = 10 * time.Second

	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()

	err := cmd.Run()
	if err == nil {
		return nil
	}
	name := filepath.Base(command)
	out := strings.TrimSpace(stderr.String())
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		return Permanent(ErrTypeMisconfigured, "cannot run %s (database.dump_command / database.client_command): %v", command, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if strings.Contains(out, "Unknown database") {
		return Permanent(ErrTypeNoDatabase, "%s: %s", name, truncateText(out, 500))
	}
	for _, marker := range []string{"Access denied", "unknown option", "unknown variable"} {
		if strings.Contains(out, marker) {
			return Permanent(ErrTypeMisconfigured, "%s failed: %s", name, truncateText(out, 500))
		}
	}
	if strings.Contains(out, "ERROR 1064") {
		return Permanent(ErrTypeBackupMismatch, "%s could not read the backup: %s", name, truncateText(out, 500))
	}
	return fmt.Errorf("%s failed (%v): %s", name, err, truncateText(out, 500))
}

type CountingWriter struct {
	N    int64
	tail []byte
}

func (c *CountingWriter) EndsWith(s string) bool { return bytes.HasSuffix(c.tail, []byte(s)) }

type limitedWriter struct {
	w io.Writer
	n int
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	c.N += int64(len(p))
	c.tail = append(c.tail, p...)
	if len(c.tail) > 64 {
		c.tail = append([]byte(nil), c.tail[len(c.tail)-64:]...)
	}
	return len(p), nil
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		q := p
		if len(q) > l.n {
			q = q[:l.n]
		}
		l.n -= len(q)
		_, _ = l.w.Write(q)
	}
	return len(p), nil
}
