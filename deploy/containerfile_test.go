package deploy_test

import (
	"encoding/json"
	"go/build"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// stage is one FROM ... section of the Containerfile.
type stage struct {
	from  string
	lines []string // instructions after FROM, continuation lines joined
}

func stages(t *testing.T) []stage {
	t.Helper()
	data, err := os.ReadFile("Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []stage
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if f, ok := strings.CutPrefix(l, "FROM "); ok {
			out = append(out, stage{from: strings.Fields(f)[0]})
			continue
		}
		if len(out) == 0 {
			t.Fatalf("instruction before FROM: %q", l)
		}
		out[len(out)-1].lines = append(out[len(out)-1].lines, l)
	}
	if len(out) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(out))
	}
	return out
}

func TestContainerfile(t *testing.T) {
	st := stages(t)
	var buildLine string
	for _, l := range st[0].lines {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
			buildLine = l
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w"`, " ./cmd/ossd"} {
		if !strings.Contains(buildLine, want) {
			t.Errorf("build line %q lacks %q", buildLine, want)
		}
	}
	// The package it builds exists, is a command, and needs no cgo.
	cmd := exec.Command("go", "list", "-f", "{{.Name}} {{.CgoFiles}}", "./cmd/ossd")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "main []" {
		t.Errorf("go list ./cmd/ossd with CGO_ENABLED=0: %v %s", err, out)
	}
	if _, err := build.ImportDir("../cmd/ossd", 0); err != nil {
		t.Errorf("../cmd/ossd: %v", err)
	}

	final := st[len(st)-1]
	if final.from != "scratch" && !strings.HasPrefix(final.from, "gcr.io/distroless/static") {
		t.Errorf("final stage FROM %s: want scratch or distroless static (no shell)", final.from)
	}
	var user, entry string
	copies := map[string]bool{}
	for _, l := range final.lines {
		verb, rest, _ := strings.Cut(l, " ")
		switch verb {
		case "RUN":
			t.Errorf("final stage runs %q: it has no shell", l)
		case "USER":
			user = rest
		case "ENTRYPOINT":
			entry = rest
		case "COPY":
			f := strings.Fields(rest)
			copies[f[len(f)-1]] = true
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n != imageUser {
		t.Errorf("USER %q: want numeric %d (non-root)", user, imageUser)
	}
	var argv []string
	if err := json.Unmarshal([]byte(entry), &argv); err != nil || len(argv) == 0 || !copies[argv[0]] {
		t.Errorf("ENTRYPOINT %q: want exec form running a binary COPYed into the final stage", entry)
	}
	if !copies["/etc/ssl/certs/ca-certificates.crt"] {
		t.Error("final stage lacks the CA bundle: HTTPS to STS would fail")
	}
}
