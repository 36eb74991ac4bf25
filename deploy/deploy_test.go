// Package deploy holds the recipes that run fengqiao in production: the
// container image (Dockerfile), the systemd unit and its environment file, and
// the example config. Its tests lint them where no Docker daemon or systemd
// instance exists (CI): docs/operations.md, "Deploying".
package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Line int
	Cmd  string // upper-case
	Args string
}

func parseDockerfile(t *testing.T, file string) []instruction {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	start := 0
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasPrefix(line, "#") { // a comment inside a continued instruction
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if body, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{start, strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("%s ends inside a continued instruction", file)
	}
	return out
}

// TestDockerfile lints deploy/Dockerfile as CI can without a daemon: a
// multi-stage build (npm, then Go at the Makefile's toolchain), an image that
// runs as a user without privileges, the data directory as a volume, a health
// check, and every file it copies from the build context present and not
// excluded by its .dockerignore.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, "Dockerfile")
	known := map[string]bool{"FROM": true, "RUN": true, "COPY": true, "ENV": true, "ARG": true, "WORKDIR": true, "USER": true,
		"VOLUME": true, "EXPOSE": true, "HEALTHCHECK": true, "ENTRYPOINT": true, "CMD": true, "STOPSIGNAL": true, "LABEL": true}
	args := map[string]string{} // ARG before the first FROM, with its default
	stages := map[string]bool{}
	var final []instruction // the last stage's instructions
	froms := 0
	for _, in := range ins {
		if !known[in.Cmd] {
			t.Errorf("Dockerfile:%d: unknown or unexpected instruction %s", in.Line, in.Cmd)
		}
		switch in.Cmd {
		case "ARG":
			if froms == 0 {
				name, def, ok := strings.Cut(in.Args, "=")
				if !ok || def == "" {
					t.Errorf("Dockerfile:%d: ARG %s before FROM has no default", in.Line, name)
				}
				args[name] = def
			}
		case "FROM":
			froms++
			final = nil
			f := strings.Fields(in.Args)
			image := f[0]
			if m := regexp.MustCompile(`^\$\{(\w+)\}$`).FindStringSubmatch(image); m != nil {
				if image = args[m[1]]; image == "" {
					t.Errorf("Dockerfile:%d: FROM ${%s}, an ARG without a default", in.Line, m[1])
				}
			}
			if !strings.Contains(image, ":") || strings.HasSuffix(image, ":latest") {
				t.Errorf("Dockerfile:%d: image %s is not pinned to a tag", in.Line, image)
			}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				stages[f[2]] = true
			}
		case "COPY":
			f := strings.Fields(in.Args)
			from := ""
			var srcs []string
			for _, a := range f[:len(f)-1] {
				if v, ok := strings.CutPrefix(a, "--from="); ok {
					from = v
				} else if !strings.HasPrefix(a, "--") {
					srcs = append(srcs, a)
				}
			}
			if from != "" {
				if !stages[from] {
					t.Errorf("Dockerfile:%d: COPY --from=%s, no such stage before it", in.Line, from)
				}
				break
			}
			for _, src := range srcs {
				checkContextPath(t, in.Line, src)
			}
		}
		final = append(final, in)
	}
	if froms < 3 {
		t.Errorf("Dockerfile has %d stages, want the web assets, the Go build and the image", froms)
	}
	if goImage := args["GO_IMAGE"]; !strings.Contains(goImage, strings.TrimPrefix(makefileToolchain(t), "go")) {
		t.Errorf("the Go image %s is not the Makefile's toolchain %s", goImage, makefileToolchain(t))
	}
	var all strings.Builder
	for _, in := range ins {
		all.WriteString(in.Cmd + " " + in.Args + "\n")
	}
	for _, want := range []string{"npm ci", "npm run build", "go build", "-X main.version="} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("the Dockerfile does not run %q", want)
		}
	}

	last := func(cmd string) (instruction, bool) {
		for i := len(final) - 1; i >= 0; i-- {
			if final[i].Cmd == cmd {
				return final[i], true
			}
		}
		return instruction{}, false
	}
	if u, ok := last("USER"); !ok || u.Args == "root" || u.Args == "0" || strings.HasPrefix(u.Args, "0:") || strings.HasPrefix(u.Args, "root:") {
		t.Errorf("the image runs as root (USER %q)", u.Args)
	}
	if v, ok := last("VOLUME"); !ok || !strings.Contains(v.Args, "/var/lib/fengqiao") {
		t.Errorf("the data directory is not a volume (VOLUME %q)", v.Args)
	}
	if h, ok := last("HEALTHCHECK"); !ok || strings.HasPrefix(h.Args, "NONE") || !strings.Contains(h.Args, `"health"`) {
		t.Errorf("no health check on /healthz (HEALTHCHECK %q)", h.Args)
	}
	if e, ok := last("ENV"); !ok || !strings.Contains(e.Args, "FENGQIAO_DATA=/var/lib/fengqiao") {
		t.Errorf("the image's data directory is not the volume (ENV %q)", e.Args)
	}
	if c, ok := last("CMD"); !ok || !strings.Contains(c.Args, `"serve"`) {
		t.Errorf("the image does not serve by default (CMD %q)", c.Args)
	}
}

// checkContextPath fails unless src, a COPY source in the build context (the
// repository root), exists and is not excluded by Dockerfile.dockerignore.
func checkContextPath(t *testing.T, line int, src string) {
	t.Helper()
	if src == "." {
		return
	}
	if _, err := os.Stat(filepath.Join("..", filepath.FromSlash(src))); err != nil {
		t.Errorf("Dockerfile:%d: COPY %s: not in the build context: %v", line, src, err)
	}
	ignore, err := os.ReadFile("Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	excluded := false
	for p := range strings.Lines(string(ignore)) {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		clean := strings.TrimSuffix(src, "/")
		if ok, _ := path.Match(p, clean); ok || strings.HasPrefix(clean, strings.TrimSuffix(p, "/*")+"/") && strings.HasSuffix(p, "/*") {
			excluded = !neg
		}
	}
	if excluded {
		t.Errorf("Dockerfile:%d: COPY %s, which Dockerfile.dockerignore excludes", line, src)
	}
}

// makefileToolchain is the Go release the Makefile asks for (GOTOOLCHAIN).
func makefileToolchain(t *testing.T) string {
	b, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^export GOTOOLCHAIN := (go[0-9.]+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the Makefile names no GOTOOLCHAIN")
	}
	return string(m[1])
}

// unit is a systemd unit file: each section's keys with their values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, file string) unit {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	u := unit{}
	section := ""
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", file, n+1, line)
			}
			u[section][key] = append(u[section][key], value)
		}
	}
	return u
}

// TestSystemdUnit checks deploy/fengqiao.service: it serves the config as an
// unprivileged user, writes nothing but the data directory, and keeps the
// hardening options; where systemd-analyze exists (CI installs it), the unit
// passes `systemd-analyze verify` and its exposure score stays at 2.0 or less.
func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, "fengqiao.service")
	s := u["Service"]
	want := map[string]string{
		"User": "fengqiao", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ReadWritePaths": "/var/lib/fengqiao",
		"PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectHome": "yes", "ProtectKernelTunables": "yes",
		"ProtectKernelModules": "yes", "ProtectControlGroups": "yes", "RestrictSUIDSGID": "yes", "LockPersonality": "yes",
		"MemoryDenyWriteExecute": "yes", "CapabilityBoundingSet": "", "StateDirectory": "fengqiao", "KillSignal": "SIGTERM",
	}
	for key, value := range want {
		if !slices.Contains(s[key], value) {
			t.Errorf("[Service] %s = %q, want %q", key, s[key], value)
		}
	}
	execStart := strings.Join(s["ExecStart"], " ")
	if !strings.HasPrefix(execStart, "/usr/local/bin/fengqiao serve -config /etc/fengqiao/fengqiao.yaml") {
		t.Errorf("ExecStart=%s", execStart)
	}
	if !slices.Contains(s["Environment"], "FENGQIAO_DATA=/var/lib/fengqiao") {
		t.Errorf("the data directory is not the StateDirectory: Environment=%q", s["Environment"])
	}
	if !slices.Contains(u["Install"]["WantedBy"], "multi-user.target") {
		t.Errorf("[Install] WantedBy=%q", u["Install"]["WantedBy"])
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is not installed (.ci/run installs Debian's systemd)")
		}
		t.Skip("systemd-analyze is not installed")
	}
	// verify wants ExecStart's binary to exist: the test binary stands in for it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile("fengqiao.service")
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "fengqiao.service")
	os.WriteFile(copyPath, []byte(strings.ReplaceAll(string(text), "/usr/local/bin/fengqiao", self)), 0o644)
	out, err := runOut(analyze, "verify", copyPath)
	// Outside a booted system verify may miss the targets it would order the
	// unit after; anything else it says is a mistake in the unit.
	var said []string
	for line := range strings.Lines(out) {
		if line = strings.TrimSpace(line); line != "" && !strings.Contains(line, ".target not found") {
			said = append(said, line)
		}
	}
	if len(said) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	if out, err := runOut(analyze, "security", "--offline=true", "--threshold=20", copyPath); err != nil {
		t.Errorf("systemd-analyze security: exposure above 2.0 (%v):\n%s", err, out)
	}
}

func runOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
