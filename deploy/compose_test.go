package deploy

import (
	"bufio"
	"fmt"
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
	Image       string `yaml:"image"`
	Build       any    `yaml:"build"`
	Ports       []any  `yaml:"ports"`
	Volumes     []any  `yaml:"volumes"`
	Secrets     []any  `yaml:"secrets"`
	DependsOn   any    `yaml:"depends_on"`
	Environment any    `yaml:"environment"`
	Healthcheck *struct {
		Test    any  `yaml:"test"`
		Disable bool `yaml:"disable"`
	} `yaml:"healthcheck"`
}

type topSecret struct {
	File        string `yaml:"file"`
	Environment string `yaml:"environment"`
	External    bool   `yaml:"external"`
}

// requiredServices are the services the stack is made of: cluster mode's (docs/cluster.md)
// and Prometheus.
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
