package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A stack with a state folder of its own (make test's) gets, from
// `farm/bin/stack env`, every setting whose default lies under .stack, moved
// to that folder; the default stack gets none of them.
func TestStackEnvFollowsTheStateFolder(t *testing.T) {
	state := t.TempDir()
	got := stackEnv(t, "WIKIFLOW_STATE_DIR="+state)
	if got["WIKIFLOW_STATE_DIR"] != state {
		t.Errorf("WIKIFLOW_STATE_DIR = %q, want %q", got["WIKIFLOW_STATE_DIR"], state)
	}
	var env []string
	for _, key := range Keys() {
		rest, ok := strings.CutPrefix(Default(key), ".stack/")
		if !ok {
			continue
		}
		want := filepath.Join(state, rest)
		if got[envName(key)] != want {
			t.Errorf("%s: stack env prints %q, want %q", envName(key), got[envName(key)], want)
		}
	}
	for name, val := range got {
		env = append(env, name+"="+val)
	}
	// What it prints is what the worker accepts (the stack's own variables included).
	if err := os.WriteFile(filepath.Join(state, "pw"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "WIKIFLOW_DATABASE_PASSWORD_FILE="+filepath.Join(state, "pw"))
	if _, err := Load(Options{Environ: env}); err != nil {
		t.Fatalf("Load with stack env's output: %v", err)
	}

	for name := range stackEnv(t) {
		if name == "WIKIFLOW_STATE_DIR" || !strings.HasSuffix(name, "_PORT") {
			t.Errorf("the default stack's env prints %s", name)
		}
	}
}

// stackEnv runs `farm/bin/stack env` with only the given WIKIFLOW_ variables
// and returns what it exports.
func stackEnv(t *testing.T, vars ...string) map[string]string {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join("..", "farm", "bin", "stack"), "env")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, EnvPrefix+"_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, vars...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("farm/bin/stack env: %v", err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, val, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			t.Fatalf("farm/bin/stack env: unexpected line %q", line)
		}
		got[name] = val
	}
	return got
}
