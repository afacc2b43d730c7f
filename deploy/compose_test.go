package deploy

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/wikiflow/wikiflow/config"
)

// composeFile is the part of the Compose format these checks read. Fields that take
// several shapes (short and long syntax) are decoded as `any` and read by the helpers.
type composeFile struct {
	Services map[string]service   `yaml:"services"`
	Volumes  map[string]any       `yaml:"volumes"`
	Secrets  map[string]topSecret `yaml:"secrets"`
}

type service struct {
	Image         string `yaml:"image"`
	Build         any    `yaml:"build"`
	ContainerName string `yaml:"container_name"`
	Command       any    `yaml:"command"`
	Ports         []any  `yaml:"ports"`
	Volumes       []any  `yaml:"volumes"`
	Secrets       []any  `yaml:"secrets"`
	DependsOn     any    `yaml:"depends_on"`
	Environment   any    `yaml:"environment"`
	Healthcheck   *struct {
		Test    any  `yaml:"test"`
		Disable bool `yaml:"disable"`
	} `yaml:"healthcheck"`
}

type topSecret struct {
	File        string `yaml:"file"`
	Environment string `yaml:"environment"`
	External    bool   `yaml:"external"`
}

// requiredServices are the services the stack is made of: cluster mode's (docs/cluster.md),
// Prometheus and NATS. TestComposeMatchesClusterMode checks the number of workers against the
// Makefile.
var requiredServices = []string{
	"mariadb",
	"temporal-postgresql",   // Temporal's persistence and visibility
	"temporal-schema-setup", // one-shot: Temporal's databases and schemas
	"temporal",
	"temporal-create-search-attributes", // one-shot: namespace + search attributes
	"temporal-ui",
	"mediawiki",
	"worker-1",
	"worker-2",
	"prometheus",
	"nats", // the broker of the farm's events (events.nats_url)
}

// binding is one published port: host port -> container port.
type binding struct{ host, container int }

// wantPorts is every port the stack publishes, all on 127.0.0.1 (docs/architecture.md).
var wantPorts = map[string][]binding{
	"mariadb":             {{3306, 3306}},
	"temporal-postgresql": {{5432, 5432}},
	"temporal":            {{7233, 7233}},
	"temporal-ui":         {{8233, 8080}},
	"mediawiki":           {{8080, 80}},
	"worker-1":            {{8091, 8091}, {8092, 8092}},
	"worker-2":            {{8093, 8093}, {8094, 8094}},
	"prometheus":          {{9090, 9090}},
	"nats":                {{4222, 4222}},
}

const loopback = "127.0.0.1"

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func loadCompose(t *testing.T, path string) *composeFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read compose file: %v", err)
	}
	f, err := parseCompose(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

func parseCompose(b []byte) (*composeFile, error) {
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("not valid YAML for Compose: %w", err)
	}
	if len(f.Services) == 0 {
		return nil, fmt.Errorf("no services")
	}
	return &f, nil
}

// TestComposeFile checks docker-compose.yml at the repository root. No Docker engine
// runs here, so this is the only check the file gets.
func TestComposeFile(t *testing.T) {
	root := repoRoot(t)
	f := loadCompose(t, filepath.Join(root, "docker-compose.yml"))
	for _, p := range checkCompose(root, f) {
		t.Error(p)
	}
	for _, name := range workerServices(f) {
		for _, p := range checkWorkerEnv(name, f.Services[name]) {
			t.Error(p)
		}
	}
}

// TestChecksReportProblems proves the checks fail: a compose file with a missing bind
// mount, build context, Dockerfile and secret file, untagged and `latest` images (in the
// file and in a Dockerfile's FROM lines), a port on every interface and an unknown
// dependency must produce one problem each, naming the service and the path.
func TestChecksReportProblems(t *testing.T) {
	root := t.TempDir()
	for name, body := range map[string]string{
		"present.sql":    "SELECT 1;\n",
		"Dockerfile.bad": "ARG GO=latest\nFROM golang:${GO} AS build\nFROM debian\nFROM build\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc := `
services:
  mariadb:
    image: mariadb:10.11
    ports: ["0.0.0.0:3306:3306"]
    volumes:
      - ./present.sql:/docker-entrypoint-initdb.d/present.sql:ro
      - ./missing/central.sql:/docker-entrypoint-initdb.d/central.sql:ro
      - type: bind
        source: ./missing/LocalSettings.php
        target: /srv/LocalSettings.php
      - data:/var/lib/mysql
      - undeclared:/x
    secrets: [db-password, not-declared]
    healthcheck: {test: ["CMD", "true"]}
  worker:
    build: {context: ., dockerfile: missing/Dockerfile}
    depends_on:
      mariadb: {condition: service_healthy}
      ghost: {condition: service_started}
  temporal:
    image: temporalio/server
  temporal-ui:
    image: temporalio/ui:latest
    depends_on: [nobody]
  other:
    build: ./missing-context
  builder:
    build: {context: ., dockerfile: Dockerfile.bad}
volumes:
  data:
secrets:
  db-password:
    file: ./missing/db-password
`
	f, err := parseCompose([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	problems := checkCompose(root, f)
	want := []string{
		`service "mariadb": bind mount source ./missing/central.sql`,
		`service "mariadb": bind mount source ./missing/LocalSettings.php`,
		`service "mariadb": volume "undeclared"`,
		`service "mariadb": secret "not-declared"`,
		`service "mariadb": port "0.0.0.0:3306:3306"`,
		`secret "db-password": file ./missing/db-password`,
		`service "worker": build dockerfile missing/Dockerfile`,
		`service "worker": depends_on "ghost"`,
		`service "other": build context ./missing-context`,
		`service "temporal": image "temporalio/server" has no tag`,
		`service "temporal-ui": image "temporalio/ui:latest" uses the tag latest`,
		`service "temporal-ui": depends_on "nobody"`,
		`service "mediawiki" is missing`,
		`service "builder": Dockerfile.bad line 2: FROM "golang:latest" uses the tag latest`,
		`service "builder": Dockerfile.bad line 3: FROM "debian" has no tag`,
	}
	for _, w := range want {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, w) }) {
			t.Errorf("no problem reported containing %q", w)
		}
	}
	for _, p := range problems {
		if strings.Contains(p, "present.sql") {
			t.Errorf("an existing path was reported: %s", p)
		}
	}
	if t.Failed() {
		t.Logf("problems reported:\n%s", strings.Join(problems, "\n"))
	}
}

// checkCompose returns every problem found, each naming its service and path.
func checkCompose(root string, f *composeFile) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for _, name := range requiredServices {
		if _, ok := f.Services[name]; !ok {
			add("service %q is missing (required: %s)", name, strings.Join(requiredServices, ", "))
		}
	}

	// Top-level secrets: a file secret must exist.
	for _, name := range sortedKeys(f.Secrets) {
		s := f.Secrets[name]
		switch {
		case s.File != "":
			if err := exists(root, s.File); err != nil {
				add("secret %q: file %s: %v", name, s.File, err)
			}
		case s.Environment == "" && !s.External:
			add("secret %q: has neither file, environment nor external", name)
		}
	}

	for _, name := range sortedKeys(f.Services) {
		s := f.Services[name]
		svc := fmt.Sprintf("service %q", name)

		// Images and builds.
		if s.Image == "" && s.Build == nil {
			add("%s: has neither image nor build", svc)
		}
		if s.Image != "" {
			if msg := imageTagProblem(s.Image); msg != "" {
				add("%s: image %q %s", svc, s.Image, msg)
			}
		}
		if s.Build != nil {
			problems = append(problems, checkBuild(root, svc, s.Build)...)
		}

		// Ports: only the expected ones, only on loopback.
		problems = append(problems, checkPorts(svc, wantPorts[name], s.Ports)...)

		// Mounts.
		for _, v := range s.Volumes {
			m, err := parseMount(v)
			if err != nil {
				add("%s: volume %v: %v", svc, v, err)
				continue
			}
			switch m.kind {
			case "bind":
				if err := exists(root, m.source); err != nil {
					add("%s: bind mount source %s (-> %s): %v", svc, m.source, m.target, err)
				}
			case "volume":
				if m.source == "" {
					continue // anonymous volume
				}
				if _, ok := f.Volumes[m.source]; !ok {
					add("%s: volume %q (-> %s) is not declared under the top-level volumes", svc, m.source, m.target)
				}
			}
		}

		// Secrets used by the service must be declared.
		for _, ref := range s.Secrets {
			src, err := secretSource(ref)
			if err != nil {
				add("%s: secret %v: %v", svc, ref, err)
				continue
			}
			if _, ok := f.Secrets[src]; !ok {
				add("%s: secret %q is not declared under the top-level secrets", svc, src)
			}
		}

		// depends_on: defined services only, and a health condition needs a healthcheck.
		deps, err := dependsOn(s.DependsOn)
		if err != nil {
			add("%s: depends_on: %v", svc, err)
		}
		for _, dep := range sortedKeys(deps) {
			target, ok := f.Services[dep]
			switch {
			case !ok:
				add("%s: depends_on %q, which is not a service of this file", svc, dep)
			case dep == name:
				add("%s: depends on itself", svc)
			case deps[dep] == "service_healthy" && (target.Healthcheck == nil || target.Healthcheck.Disable):
				add("%s: depends_on %q with service_healthy, but %q has no healthcheck", svc, dep, dep)
			case !slices.Contains([]string{"service_started", "service_healthy", "service_completed_successfully"}, deps[dep]):
				add("%s: depends_on %q: unknown condition %q", svc, dep, deps[dep])
			}
		}
	}
	return problems
}

// checkWorkerEnv refuses WIKIFLOW_* variables of a worker service that are not
// configuration keys: the worker would refuse to start with them (config.applyEnv).
func checkWorkerEnv(svc string, s service) []string {
	known := map[string]bool{}
	for _, k := range config.Keys() {
		known[config.EnvPrefix+"_"+strings.ToUpper(strings.ReplaceAll(k, ".", "_"))] = true
	}
	env, err := environment(s.Environment)
	if err != nil {
		return []string{fmt.Sprintf(`service %q: environment: %v`, svc, err)}
	}
	var problems []string
	for _, name := range sortedKeys(env) {
		if strings.HasPrefix(name, config.EnvPrefix+"_") && !known[name] {
			problems = append(problems, fmt.Sprintf(`service %q: environment %s is not a configuration key (the worker refuses unknown WIKIFLOW_* variables)`, svc, name))
		}
	}
	return problems
}

// exists checks a path from the compose file, relative to the repository root.
func exists(root, p string) error {
	if strings.HasPrefix(p, "~") || strings.Contains(p, "${") {
		return fmt.Errorf("must be a plain path relative to the repository root")
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(root, p)
	}
	_, err := os.Stat(p)
	if os.IsNotExist(err) {
		return fmt.Errorf("%s does not exist", p)
	}
	return err
}

func checkBuild(root, svc string, build any) []string {
	context, dockerfile := ".", "Dockerfile"
	switch b := build.(type) {
	case string:
		context = b
	case map[string]any:
		if c, ok := b["context"].(string); ok {
			context = c
		}
		if d, ok := b["dockerfile"].(string); ok {
			dockerfile = d
		}
	default:
		return []string{fmt.Sprintf("%s: build: want a path or a mapping, got %T", svc, build)}
	}
	if err := exists(root, context); err != nil {
		return []string{fmt.Sprintf("%s: build context %s: %v", svc, context, err)}
	}
	// The dockerfile is relative to the context.
	path := dockerfile
	if !filepath.IsAbs(path) {
		path = filepath.Join(context, dockerfile)
	}
	if err := exists(root, path); err != nil {
		return []string{fmt.Sprintf("%s: build dockerfile %s (in context %s): %v", svc, dockerfile, context, err)}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	images := dockerfileImages(path)
	if len(images) == 0 {
		return []string{fmt.Sprintf("%s: build dockerfile %s: no base image found (no FROM line?)", svc, dockerfile)}
	}
	var problems []string
	for _, from := range images {
		if msg := imageTagProblem(from.image); msg != "" {
			problems = append(problems, fmt.Sprintf("%s: %s line %d: FROM %q %s", svc, dockerfile, from.line, from.image, msg))
		}
	}
	return problems
}

type fromLine struct {
	image string
	line  int
}

var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// dockerfileImages returns the base images of a Dockerfile with ARG defaults filled in,
// leaving out `scratch` and earlier stages named with AS.
func dockerfileImages(path string) []fromLine {
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	args := map[string]string{}
	stages := map[string]bool{"scratch": true}
	var out []fromLine
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "ARG":
			if name, val, ok := strings.Cut(fields[1], "="); ok {
				args[name] = strings.Trim(val, `"'`)
			}
		case "FROM":
			ref := ""
			for i := 1; i < len(fields); i++ {
				if strings.HasPrefix(fields[i], "--") {
					continue
				}
				ref = fields[i]
				if i+2 < len(fields) && strings.EqualFold(fields[i+1], "AS") {
					stages[strings.ToLower(fields[i+2])] = true
				}
				break
			}
			ref = argRef.ReplaceAllStringFunc(ref, func(m string) string {
				return args[argRef.FindStringSubmatch(m)[1]]
			})
			if ref != "" && !stages[strings.ToLower(ref)] {
				out = append(out, fromLine{ref, n})
			}
		}
	}
	return out
}

// imageTagProblem says what is wrong with an image reference's tag, or "".
func imageTagProblem(ref string) string {
	if strings.Contains(ref, "${") {
		return "uses a variable: pin the tag in the file"
	}
	if _, _, ok := strings.Cut(ref, "@sha256:"); ok {
		return "" // pinned by digest
	}
	lastSlash := strings.LastIndex(ref, "/")
	colon := strings.LastIndex(ref, ":")
	if colon <= lastSlash { // no tag (a colon before the last slash is a registry port)
		return "has no tag: pin one"
	}
	if tag := ref[colon+1:]; tag == "latest" || tag == "" {
		return "uses the tag latest: pin a version"
	}
	return ""
}

func checkPorts(svc string, want []binding, ports []any) []string {
	var problems []string
	var got []binding
	for _, p := range ports {
		ip, host, container, err := parsePort(p)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: port %v: %v", svc, p, err))
			continue
		}
		if ip != loopback {
			problems = append(problems, fmt.Sprintf("%s: port %q is published on %q: publish on %s only", svc, fmt.Sprint(p), ip, loopback))
		}
		got = append(got, binding{host, container})
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			problems = append(problems, fmt.Sprintf("%s: does not publish %s:%d -> container port %d", svc, loopback, w.host, w.container))
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			problems = append(problems, fmt.Sprintf("%s: publishes host port %d -> %d, which the stack does not expect", svc, g.host, g.container))
		}
	}
	return problems
}

// parsePort reads "[ip:][host:]container[/proto]" or the long syntax. A missing host
// IP is reported as "" (every interface).
func parsePort(p any) (ip string, host, container int, err error) {
	switch v := p.(type) {
	case string:
		spec, _, _ := strings.Cut(v, "/")
		parts := strings.Split(spec, ":")
		switch len(parts) {
		case 3:
			ip = parts[0]
			parts = parts[1:]
		case 2:
		default:
			return "", 0, 0, fmt.Errorf("want [ip:]host:container")
		}
		if host, err = strconv.Atoi(parts[0]); err != nil {
			return "", 0, 0, fmt.Errorf("host port %q is not a single port", parts[0])
		}
		if container, err = strconv.Atoi(parts[1]); err != nil {
			return "", 0, 0, fmt.Errorf("container port %q is not a single port", parts[1])
		}
		return ip, host, container, nil
	case map[string]any:
		ip, _ = v["host_ip"].(string)
		container, err = toInt(v["target"])
		if err != nil {
			return "", 0, 0, fmt.Errorf("target: %v", err)
		}
		if host, err = toInt(v["published"]); err != nil {
			return "", 0, 0, fmt.Errorf("published: %v", err)
		}
		return ip, host, container, nil
	case int:
		return "", 0, v, fmt.Errorf("no host port: Docker picks one on every interface")
	}
	return "", 0, 0, fmt.Errorf("unexpected %T", p)
}

func toInt(v any) (int, error) {
	switch n := v.(type) {
	case int:
		return n, nil
	case string:
		return strconv.Atoi(n)
	}
	return 0, fmt.Errorf("want a port number, got %v", v)
}

type mount struct{ kind, source, target string }

// parseMount reads a service volume in short ("src:dst[:mode]") or long syntax. In the
// short syntax a source starting with ".", "/" or "~" is a bind mount, else a volume name.
func parseMount(v any) (mount, error) {
	switch m := v.(type) {
	case string:
		parts := strings.Split(m, ":")
		if len(parts) == 1 {
			return mount{kind: "volume", target: parts[0]}, nil
		}
		src, dst := parts[0], parts[1]
		if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") || strings.HasPrefix(src, "~") {
			return mount{"bind", src, dst}, nil
		}
		return mount{"volume", src, dst}, nil
	case map[string]any:
		kind, _ := m["type"].(string)
		src, _ := m["source"].(string)
		dst, _ := m["target"].(string)
		switch kind {
		case "bind":
			if src == "" {
				return mount{}, fmt.Errorf("bind mount without source")
			}
		case "volume", "tmpfs":
		default:
			return mount{}, fmt.Errorf("unknown type %q", kind)
		}
		return mount{kind, src, dst}, nil
	}
	return mount{}, fmt.Errorf("unexpected %T", v)
}

func secretSource(v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case map[string]any:
		if src, ok := s["source"].(string); ok && src != "" {
			return src, nil
		}
		return "", fmt.Errorf("no source")
	}
	return "", fmt.Errorf("unexpected %T", v)
}

// dependsOn reads the list or the mapping form into name -> condition.
func dependsOn(v any) (map[string]string, error) {
	deps := map[string]string{}
	switch d := v.(type) {
	case nil:
	case []any:
		for _, x := range d {
			name, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("want service names, got %v", x)
			}
			deps[name] = "service_started"
		}
	case map[string]any:
		for name, x := range d {
			cond := "service_started"
			if m, ok := x.(map[string]any); ok {
				if c, ok := m["condition"].(string); ok {
					cond = c
				}
			}
			deps[name] = cond
		}
	default:
		return nil, fmt.Errorf("unexpected %T", v)
	}
	return deps, nil
}

// environment reads the mapping or the "KEY=value" list form.
func environment(v any) (map[string]string, error) {
	env := map[string]string{}
	switch e := v.(type) {
	case nil:
	case map[string]any:
		for k, val := range e {
			env[k] = fmt.Sprint(val)
		}
	case []any:
		for _, x := range e {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("want KEY=value, got %v", x)
			}
			k, val, _ := strings.Cut(s, "=")
			env[k] = val
		}
	default:
		return nil, fmt.Errorf("unexpected %T", v)
	}
	return env, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ---------------------------------------------------------------- cluster mode

// clusterMode is what cluster mode runs, read from farm/bin/stack and the Makefile, so that
// the compose file follows the script rather than a copy of its numbers.
type clusterMode struct {
	serverVersion string // the Temporal server and its admin tools: server_version=v1.30.4
	uiVersion     string // the Web UI server: ui_version=v2.58.1
	pgMajor       string // PostgreSQL's major version: pg_bin=/usr/lib/postgresql/15/bin
	sqlPlugin     string // the SQL plugin of the schema tool and the server: pluginName
	dynamicConfig string // the server's dynamic config, relative to the repository
	workers       int    // workers of `make run-cluster`: run-workers $(BIN)/worker 2
	workerPort    int    // the first worker's health port: WIKIFLOW_WORKER_PORT's default
}

var (
	stackServerVersion = regexp.MustCompile(`(?m)^server_version=v([0-9]+\.[0-9]+\.[0-9]+)$`)
	stackUIVersion     = regexp.MustCompile(`(?m)^ui_version=v([0-9]+\.[0-9]+\.[0-9]+)$`)
	stackPgBin         = regexp.MustCompile(`(?m)^pg_bin=/usr/lib/postgresql/([0-9]+)/bin$`)
	stackPlugin        = regexp.MustCompile(`(?m)^\s*pluginName: (\S+)$`)
	stackSQLTool       = regexp.MustCompile(`"\$sql_tool_bin" --plugin (\S+)`)
	stackDynamicConfig = regexp.MustCompile(`(?m)^dynamic_config=\$repo/(\S+)$`)
	stackDCFilepath    = regexp.MustCompile(`(?m)^\s*filepath: "\$dynamic_config"$`)
	stackWorkerPort    = regexp.MustCompile(`(?m)^worker_port=\$\{WIKIFLOW_WORKER_PORT:-([0-9]+)\}$`)
	makeRunWorkers     = regexp.MustCompile(`(?m)^\s*@?farm/bin/run-workers \$\(BIN\)/worker ([0-9]+)$`)
)

// readClusterMode parses farm/bin/stack and the Makefile. Every value must be found once:
// a refactoring of the script that moves one fails here instead of passing unchecked.
func readClusterMode(stack, makefile string) (clusterMode, error) {
	var m clusterMode
	var errs []string
	one := func(re *regexp.Regexp, text, what string) string {
		all := re.FindAllStringSubmatch(text, -1)
		if len(all) == 0 {
			errs = append(errs, fmt.Sprintf("%s: no match for %s", what, re))
			return ""
		}
		for _, x := range all[1:] {
			if x[len(x)-1] != all[0][len(all[0])-1] {
				errs = append(errs, fmt.Sprintf("%s: %q and %q disagree", what, all[0][0], x[0]))
			}
		}
		return all[0][len(all[0])-1]
	}
	m.serverVersion = one(stackServerVersion, stack, "farm/bin/stack server_version")
	m.uiVersion = one(stackUIVersion, stack, "farm/bin/stack ui_version")
	m.pgMajor = one(stackPgBin, stack, "farm/bin/stack pg_bin")
	m.sqlPlugin = one(stackPlugin, stack, "farm/bin/stack pluginName")
	if tool := one(stackSQLTool, stack, "farm/bin/stack sql_tool --plugin"); tool != m.sqlPlugin {
		errs = append(errs, fmt.Sprintf("farm/bin/stack: the SQL tool's plugin %q is not the server's %q", tool, m.sqlPlugin))
	}
	m.dynamicConfig = one(stackDynamicConfig, stack, "farm/bin/stack dynamic_config")
	if !stackDCFilepath.MatchString(stack) {
		errs = append(errs, `farm/bin/stack: the server's dynamicConfigClient.filepath is not "$dynamic_config"`)
	}
	var err error
	if m.workerPort, err = strconv.Atoi(one(stackWorkerPort, stack, "farm/bin/stack worker_port")); err != nil {
		errs = append(errs, fmt.Sprintf("farm/bin/stack worker_port: %v", err))
	}
	if m.workers, err = strconv.Atoi(one(makeRunWorkers, makefile, "Makefile run-cluster")); err != nil {
		errs = append(errs, fmt.Sprintf("Makefile run-cluster: %v", err))
	}
	if len(errs) > 0 {
		return m, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return m, nil
}

// TestComposeMatchesClusterMode checks that docker-compose.yml runs what cluster mode runs:
// the same server, admin tools, UI and PostgreSQL versions, the same SQL plugin and dynamic
// config file, the services started in the order the stack starts them, as many workers as
// `make run-cluster` on one task queue at cluster mode's ports, and Prometheus scraping each.
func TestComposeMatchesClusterMode(t *testing.T) {
	root := repoRoot(t)
	stack, err := os.ReadFile(filepath.Join(root, "farm/bin/stack"))
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := readClusterMode(string(stack), string(makefile))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "docker-compose.yml")
	f := loadCompose(t, path)
	for _, p := range checkCluster(root, f, m) {
		t.Error(p)
	}
	// The header comment names the versions and the workers: it must follow them.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var header strings.Builder
	for line := range strings.Lines(string(b)) {
		if !strings.HasPrefix(line, "#") {
			break
		}
		header.WriteString(line)
	}
	mentions := []string{"server v" + m.serverVersion, "ui-server v" + m.uiVersion, fmt.Sprintf("PostgreSQL %s", m.pgMajor)}
	for i := range m.workers {
		mentions = append(mentions, fmt.Sprintf("worker-%d ", i+1), fmt.Sprintf(":%d", m.workerPort+2*i))
	}
	for _, w := range mentions {
		if !strings.Contains(header.String(), w) {
			t.Errorf("docker-compose.yml: the header comment does not mention %q (cluster mode's)", w)
		}
	}
}

// TestClusterChecksReportProblems proves the cluster checks fail: wrong versions and plugin,
// a dynamic config that is not the stack's, reversed or missing dependencies, workers on two
// task queues, with one container name and the wrong ports, and a worker Prometheus misses.
func TestClusterChecksReportProblems(t *testing.T) {
	root := t.TempDir()
	prom := `
scrape_configs:
  - job_name: w
    metrics_path: /stats
    static_configs:
      - targets: ["worker-1:8091"]
  - job_name: x
    static_configs:
      - targets: ["worker-9:8091"]
`
	if err := os.WriteFile(filepath.Join(root, "prom.yml"), []byte(prom), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := `
services:
  temporal-postgresql:
    image: postgres:16
  temporal-schema-setup:
    image: temporalio/admin-tools:1.30.1
    environment: {SQL_PLUGIN: mysql8}
  temporal:
    image: temporalio/server:1.29.0
    depends_on: [temporal-create-search-attributes]
    environment:
      DB: mysql8
      DYNAMIC_CONFIG_FILE_PATH: /etc/temporal/dc.yaml
    volumes:
      - ./other/dynamicconfig.yaml:/etc/temporal/dc.yaml:ro
  temporal-create-search-attributes:
    image: temporalio/admin-tools:1.30.4
  temporal-ui:
    image: temporalio/ui:2.34.0
  mariadb:
    image: mariadb:10.11
  mediawiki:
    image: mediawiki:1.39
  worker-1:
    image: wikiflow/worker:dev
    container_name: w
    depends_on: {temporal: {condition: service_started}}
    environment:
      WIKIFLOW_TEMPORAL_TASK_QUEUE: wikiflow
      WIKIFLOW_WORKER_HEALTH_ADDRESS: "0.0.0.0:8091"
      WIKIFLOW_HOOK_ADDRESS: "0.0.0.0:8092"
    ports: ["127.0.0.1:8091:8091"]
  worker-2:
    image: wikiflow/worker:other
    container_name: w
    environment:
      WIKIFLOW_TEMPORAL_TASK_QUEUE: elsewhere
      WIKIFLOW_WORKER_HEALTH_ADDRESS: "0.0.0.0:8091"
  prometheus:
    image: prom/prometheus:v3.5.0
    volumes:
      - ./prom.yml:/etc/prometheus/prometheus.yml:ro
`
	f, err := parseCompose([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	m := clusterMode{serverVersion: "1.30.4", uiVersion: "2.58.1", pgMajor: "15", sqlPlugin: "postgres12",
		dynamicConfig: "deploy/temporal/dynamicconfig.yaml", workers: 3, workerPort: 8091}
	problems := checkCluster(root, f, m)
	want := []string{
		`service "temporal": image "temporalio/server:1.29.0": want temporalio/server:1.30.4`,
		`service "temporal-schema-setup": image "temporalio/admin-tools:1.30.1": want temporalio/admin-tools:1.30.4`,
		`service "temporal-ui": image "temporalio/ui:2.34.0": want temporalio/ui:2.58.1`,
		`service "temporal-postgresql": image "postgres:16": want postgres:15`,
		`service "temporal": DB is "mysql8"`,
		`service "temporal-schema-setup": SQL_PLUGIN is "mysql8"`,
		`service "temporal": DYNAMIC_CONFIG_FILE_PATH /etc/temporal/dc.yaml is mounted from ./other/dynamicconfig.yaml`,
		`service "temporal-schema-setup" must depend on "temporal-postgresql"`,
		`service "temporal" must depend on "temporal-schema-setup"`,
		`service "temporal-create-search-attributes" must depend on "temporal"`,
		`service "worker-1" must depend on "temporal" with service_healthy`,
		`service "worker-1" must depend on "mariadb"`,
		`service "worker-2" must depend on "mediawiki"`,
		`3 worker services wanted`,
		`service "worker-2": image "wikiflow/worker:other" is not worker-1's`,
		`service "worker-2": container_name "w" is worker-1's too`,
		`service "worker-2": task queue "elsewhere" is not worker-1's "wikiflow"`,
		`service "worker-2": WIKIFLOW_WORKER_HEALTH_ADDRESS "0.0.0.0:8091": want port 8093`,
		`service "worker-2": WIKIFLOW_HOOK_ADDRESS "": want port 8094`,
		`service "worker-2": does not publish its health port 127.0.0.1:8093 -> 8093`,
		`service "worker-1": healthcheck does not ask :8091/healthz`,
		`service "mediawiki": WIKIFLOW_HOOK_URL "", want "http://worker-1:8092"`,
		`service "prometheus" must depend on "worker-2"`,
		`prometheus: no scrape job gets http://worker-1:8091/metrics`,
		`prometheus: no scrape job gets http://worker-2:8093/metrics`,
		`prometheus: target worker-9:8091 is not a worker service`,
	}
	for _, w := range want {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, w) }) {
			t.Errorf("no problem reported containing %q", w)
		}
	}
	if t.Failed() {
		t.Logf("problems reported:\n%s", strings.Join(problems, "\n"))
	}
}

// workerServices are the services named worker-<n>, in order of n.
func workerServices(f *composeFile) []string {
	var names []string
	for name := range f.Services {
		if n, err := strconv.Atoi(strings.TrimPrefix(name, "worker-")); err == nil && n > 0 && strings.HasPrefix(name, "worker-") {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		x, _ := strconv.Atoi(strings.TrimPrefix(a, "worker-"))
		y, _ := strconv.Atoi(strings.TrimPrefix(b, "worker-"))
		return x - y
	})
	return names
}

// dependency is one depends_on edge the start order needs; an empty condition takes any.
type dependency struct{ from, to, condition string }

// clusterOrder is the order farm/bin/stack up --cluster starts things in: PostgreSQL before the
// schema, the schema before the server, the server before the namespace and search attributes
// and the UI, MariaDB before MediaWiki, and the workers last.
var clusterOrder = []dependency{
	{"temporal-schema-setup", "temporal-postgresql", "service_healthy"},
	{"temporal", "temporal-schema-setup", "service_completed_successfully"},
	{"temporal-create-search-attributes", "temporal", "service_healthy"},
	{"temporal-ui", "temporal", ""},
	{"mediawiki", "mariadb", "service_healthy"},
}

// workerDependencies are what each worker waits for.
var workerDependencies = []dependency{
	{"", "temporal", "service_healthy"},
	{"", "temporal-create-search-attributes", "service_completed_successfully"},
	{"", "mariadb", "service_healthy"},
	{"", "mediawiki", "service_healthy"},
}

// checkCluster returns every way the compose file differs from cluster mode.
func checkCluster(root string, f *composeFile, m clusterMode) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	env := func(name string) map[string]string {
		e, err := environment(f.Services[name].Environment)
		if err != nil {
			add("service %q: environment: %v", name, err)
		}
		return e
	}

	// Images: the versions farm/bin/stack builds or installs.
	for name, want := range map[string]string{
		"temporal":                          "temporalio/server:" + m.serverVersion,
		"temporal-schema-setup":             "temporalio/admin-tools:" + m.serverVersion,
		"temporal-create-search-attributes": "temporalio/admin-tools:" + m.serverVersion,
		"temporal-ui":                       "temporalio/ui:" + m.uiVersion,
	} {
		if s, ok := f.Services[name]; ok && s.Image != want {
			add("service %q: image %q: want %s (farm/bin/stack's version)", name, s.Image, want)
		}
	}
	if s, ok := f.Services["temporal-postgresql"]; ok {
		repo, tag := splitImage(s.Image)
		if repo != "postgres" || (tag != m.pgMajor && !strings.HasPrefix(tag, m.pgMajor+".") && !strings.HasPrefix(tag, m.pgMajor+"-")) {
			add("service %q: image %q: want postgres:%s (farm/bin/stack's PostgreSQL)", "temporal-postgresql", s.Image, m.pgMajor)
		}
	}
	if s, ok := f.Services["prometheus"]; ok {
		if repo, _ := splitImage(s.Image); repo != "prom/prometheus" {
			add("service %q: image %q: want prom/prometheus", "prometheus", s.Image)
		}
	}

	// The SQL plugin, and the server's dynamic config: the stack's own file.
	if _, ok := f.Services["temporal"]; ok {
		e := env("temporal")
		if e["DB"] != m.sqlPlugin {
			add("service %q: DB is %q, want %q (farm/bin/stack's pluginName)", "temporal", e["DB"], m.sqlPlugin)
		}
		path := e["DYNAMIC_CONFIG_FILE_PATH"]
		mounted := ""
		for _, v := range f.Services["temporal"].Volumes {
			if mt, err := parseMount(v); err == nil && mt.kind == "bind" && mt.target == path {
				mounted = mt.source
			}
		}
		switch {
		case path == "":
			add("service %q: no DYNAMIC_CONFIG_FILE_PATH: the server would not read %s", "temporal", m.dynamicConfig)
		case mounted == "":
			add("service %q: DYNAMIC_CONFIG_FILE_PATH %s is not a bind mount of %s", "temporal", path, m.dynamicConfig)
		case filepath.Clean(mounted) != filepath.Clean(m.dynamicConfig):
			add("service %q: DYNAMIC_CONFIG_FILE_PATH %s is mounted from %s, want %s (the file farm/bin/stack's server reads)", "temporal", path, mounted, m.dynamicConfig)
		}
	}
	if _, ok := f.Services["temporal-schema-setup"]; ok {
		if p := env("temporal-schema-setup")["SQL_PLUGIN"]; p != m.sqlPlugin {
			add("service %q: SQL_PLUGIN is %q, want %q (farm/bin/stack's sql_tool --plugin)", "temporal-schema-setup", p, m.sqlPlugin)
		}
	}

	// Start order.
	need := func(d dependency) {
		if _, ok := f.Services[d.from]; !ok {
			return // reported as missing by checkCompose
		}
		deps, err := dependsOn(f.Services[d.from].DependsOn)
		if err != nil {
			return // reported by checkCompose
		}
		cond, ok := deps[d.to]
		switch {
		case !ok:
			add("service %q must depend on %q (cluster mode starts %s first)", d.from, d.to, d.to)
		case d.condition != "" && cond != d.condition:
			add("service %q must depend on %q with %s, not %s", d.from, d.to, d.condition, cond)
		}
	}
	for _, d := range clusterOrder {
		need(d)
	}
	if cycle := dependencyCycle(f); cycle != "" {
		add("depends_on has a cycle: %s", cycle)
	}

	// Workers: as many as `make run-cluster`, one image and one task queue, cluster mode's ports.
	workers := workerServices(f)
	if len(workers) != m.workers {
		add("%d worker services wanted (worker-1..worker-%d, as `make run-cluster`), found %d: %v", m.workers, m.workers, len(workers), workers)
	}
	var first service
	var firstEnv map[string]string
	containers := map[string]string{}
	for i, name := range workers {
		s := f.Services[name]
		e := env(name)
		for _, d := range workerDependencies {
			d.from = name
			need(d)
		}
		if i == 0 {
			first, firstEnv = s, e
			if e["WIKIFLOW_TEMPORAL_TASK_QUEUE"] == "" {
				add("service %q: no WIKIFLOW_TEMPORAL_TASK_QUEUE", name)
			}
		} else {
			if s.Image != first.Image || fmt.Sprint(s.Build) != fmt.Sprint(first.Build) {
				add("service %q: image %q is not %s's %q (one worker image)", name, s.Image, workers[0], first.Image)
			}
			for _, k := range []struct{ name, what string }{
				{"WIKIFLOW_TEMPORAL_TASK_QUEUE", "task queue"},
				{"WIKIFLOW_TEMPORAL_ADDRESS", "Temporal address"},
				{"WIKIFLOW_TEMPORAL_NAMESPACE", "namespace"},
			} {
				if e[k.name] != firstEnv[k.name] {
					add("service %q: %s %q is not %s's %q (one task queue on one Temporal)", name, k.what, e[k.name], workers[0], firstEnv[k.name])
				}
			}
		}
		switch other, dup := containers[s.ContainerName]; {
		case s.ContainerName == "":
			add("service %q: no container_name", name)
		case dup:
			add("service %q: container_name %q is %s's too", name, s.ContainerName, other)
		default:
			containers[s.ContainerName] = name
		}
		health := m.workerPort + 2*i
		for key, port := range map[string]int{"WIKIFLOW_WORKER_HEALTH_ADDRESS": health, "WIKIFLOW_HOOK_ADDRESS": health + 1} {
			if _, p, err := net.SplitHostPort(e[key]); err != nil || p != strconv.Itoa(port) {
				add("service %q: %s %q: want port %d (cluster mode's worker %d, farm/bin/run-workers)", name, key, e[key], port, i+1)
			}
		}
		published := false
		for _, p := range s.Ports {
			if ip, host, container, err := parsePort(p); err == nil && ip == loopback && host == health && container == health {
				published = true
			}
		}
		if !published {
			add("service %q: does not publish its health port %s:%d -> %d", name, loopback, health, health)
		}
		if s.Healthcheck == nil || !strings.Contains(fmt.Sprint(s.Healthcheck.Test), fmt.Sprintf(":%d/healthz", health)) {
			add("service %q: healthcheck does not ask :%d/healthz", name, health)
		}
	}
	if len(workers) > 0 {
		if _, ok := f.Services["mediawiki"]; ok {
			hook := fmt.Sprintf("http://%s:%d", workers[0], m.workerPort+1)
			if got := env("mediawiki")["WIKIFLOW_HOOK_URL"]; got != hook {
				add("service %q: WIKIFLOW_HOOK_URL %q, want %q (the first worker's hook, as in cluster mode)", "mediawiki", got, hook)
			}
		}
	}

	// Prometheus: every worker's /metrics on its health port, and no target that is not one.
	if s, ok := f.Services["prometheus"]; ok {
		for _, d := range workers {
			need(dependency{"prometheus", d, ""})
		}
		problems = append(problems, checkPrometheus(root, s, workers, m.workerPort)...)
	}
	return problems
}

// promConfig is the part of a Prometheus configuration the checks read.
type promConfig struct {
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		Scheme        string `yaml:"scheme"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// checkPrometheus reads the configuration file mounted into the prometheus service and checks
// that it scrapes http://<worker>:<health port>/metrics for each worker.
func checkPrometheus(root string, s service, workers []string, firstPort int) []string {
	const defaultConfig = "/etc/prometheus/prometheus.yml"
	target := defaultConfig
	if args, ok := s.Command.([]any); ok {
		for _, a := range args {
			if v, ok := strings.CutPrefix(fmt.Sprint(a), "--config.file="); ok {
				target = v
			}
		}
	}
	source := ""
	for _, v := range s.Volumes {
		if mt, err := parseMount(v); err == nil && mt.kind == "bind" && mt.target == target {
			source = mt.source
		}
	}
	if source == "" {
		return []string{fmt.Sprintf("prometheus: no bind mount at %s, its configuration file", target)}
	}
	b, err := os.ReadFile(filepath.Join(root, source))
	if err != nil {
		return []string{fmt.Sprintf("prometheus: %v", err)}
	}
	var c promConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		return []string{fmt.Sprintf("prometheus: %s: %v", source, err)}
	}
	scraped := map[string]bool{} // "http://host:port/path"
	var problems []string
	for _, job := range c.ScrapeConfigs {
		scheme, path := job.Scheme, job.MetricsPath
		if scheme == "" {
			scheme = "http"
		}
		if path == "" {
			path = "/metrics"
		}
		for _, sc := range job.StaticConfigs {
			for _, t := range sc.Targets {
				scraped[scheme+"://"+t+path] = true
				host, _, _ := net.SplitHostPort(t)
				if strings.HasPrefix(host, "worker") && !slices.Contains(workers, host) {
					problems = append(problems, fmt.Sprintf("prometheus: target %s is not a worker service of the compose file (%s)", t, source))
				}
			}
		}
	}
	for i, w := range workers {
		want := fmt.Sprintf("http://%s:%d/metrics", w, firstPort+2*i)
		if !scraped[want] {
			problems = append(problems, fmt.Sprintf("prometheus: no scrape job gets %s (%s)", want, source))
		}
	}
	return problems
}

// dependencyCycle returns one depends_on cycle as "a -> b -> a", or "".
func dependencyCycle(f *composeFile) string {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(string) string
	visit = func(name string) string {
		switch state[name] {
		case active:
			i := slices.Index(path, name)
			return strings.Join(append(slices.Clone(path[i:]), name), " -> ")
		case done:
			return ""
		}
		state[name] = active
		path = append(path, name)
		deps, _ := dependsOn(f.Services[name].DependsOn)
		for _, d := range sortedKeys(deps) {
			if _, ok := f.Services[d]; !ok {
				continue
			}
			if c := visit(d); c != "" {
				return c
			}
		}
		path = path[:len(path)-1]
		state[name] = done
		return ""
	}
	for _, name := range sortedKeys(f.Services) {
		if c := visit(name); c != "" {
			return c
		}
	}
	return ""
}

// splitImage splits "repo[:tag][@digest]" into the repository and the tag.
func splitImage(ref string) (repo, tag string) {
	ref, _, _ = strings.Cut(ref, "@")
	if colon := strings.LastIndex(ref, ":"); colon > strings.LastIndex(ref, "/") {
		return ref[:colon], ref[colon+1:]
	}
	return ref, ""
}
