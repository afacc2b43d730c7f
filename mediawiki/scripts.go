package mediawiki

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// ScriptError is a maintenance script that exited non-zero. Today's farms
// ignore these exit codes; every caller here must look at them.
type ScriptError struct {
	Script   string
	Wiki     string
	ExitCode int
	Output   string
}

func (e *ScriptError) Error() string {
	return fmt.Sprintf("maintenance script %s on %s exited %d: %s", e.Script, e.Wiki, e.ExitCode, truncate(strings.TrimSpace(e.Output), 500))
}

// Scripts runs maintenance scripts through the farm's command, e.g.
// ["mwscript", "{script}", "--wiki={wiki}"].
type Scripts struct {
	command []string
	dir     string
}

// NewScripts builds a runner; dir is the working directory of the command.
func NewScripts(command []string, dir string) *Scripts {
	return &Scripts{command: command, dir: dir}
}

var scriptName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_/]*(\.php)?$`)

// Run runs script against wiki with args and returns its standard output.
// Arguments are passed as separate argv entries, never through a shell.
func (s *Scripts) Run(ctx context.Context, wiki, script string, args ...string) (string, error) {
	return s.RunWithInput(ctx, wiki, "", script, args...)
}

// RunWithInput is Run with text on the script's standard input (eval.php
// reads its code there).
func (s *Scripts) RunWithInput(ctx context.Context, wiki, input, script string, args ...string) (string, error) {
	if !scriptName.MatchString(script) || strings.Contains(script, "..") {
		return "", fmt.Errorf("invalid maintenance script name %q", script)
	}
	argv := make([]string, 0, len(s.command)+len(args))
	for _, part := range s.command {
		argv = append(argv, strings.NewReplacer("{script}", script, "{wiki}", wiki).Replace(part))
	}
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = s.dir
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return stdout.String(), &ScriptError{Script: script, Wiki: wiki, ExitCode: code, Output: stderr.String() + stdout.String()}
	}
	return stdout.String(), nil
}
