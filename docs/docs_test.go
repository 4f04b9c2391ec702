// Package docs_test runs the examples of README.md and docs/*.md. Every
// fenced block says what it is in its info string, and is checked
// accordingly:
//
//	```toml          parsed as a config (a fragment is completed with a
//	                 [source], [sts] and the roles it names)
//	```json          parsed as JSON
//	```yaml          parsed as YAML
//	```text          shown as is: paths, URL shapes
//	```sh test       run with bash against `ossd serve --dev --config` on
//	                 testdata/docs.toml, with ossd on PATH; in a block
//	                 with "$ " prompts only those lines are run
//	```sh manual     not runnable here (docker, systemctl, installing into
//	                 /usr, the aliyun CLI, the suite itself); listed by -v
//
// A block with any other info string fails the test, so a new example
// must say how it is checked.
package docs_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/needs"
	"github.com/ossd/ossd/internal/testenv"
)

// block is one fenced block of a Markdown file.
type block struct {
	file string
	line int
	info []string // the info string's words: language, then markers
	body string
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

func blocks(t *testing.T) []block {
	t.Helper()
	files, _ := filepath.Glob("*.md")
	files = append([]string{"../README.md"}, files...)
	var out []block
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cur *block
		var body strings.Builder
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			switch {
			case cur == nil && strings.HasPrefix(line, "```"):
				cur = &block{file: f, line: n, info: strings.Fields(strings.TrimPrefix(line, "```"))}
				body.Reset()
			case cur != nil && strings.TrimSpace(line) == "```":
				cur.body = body.String()
				out = append(out, *cur)
				cur = nil
			case cur != nil:
				body.WriteString(line + "\n")
			}
		}
		if cur != nil {
			t.Errorf("%s: unterminated block", cur)
		}
	}
	return out
}

var ossdBin, credprocBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ossd-docs-")
	if err != nil {
		panic(err)
	}
	for _, c := range []string{"ossd", "ossd-credential-process"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, c), "../cmd/"+c).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", c, err, out)
			os.Exit(1)
		}
	}
	ossdBin, credprocBin = filepath.Join(dir, "ossd"), filepath.Join(dir, "ossd-credential-process")
	code := m.Run()
	needs.Report(os.Stderr)
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestBlocksAreMarked(t *testing.T) {
	for _, b := range blocks(t) {
		switch kind := strings.Join(b.info, " "); kind {
		case "toml", "json", "yaml", "text", "sh test":
		case "sh manual":
			t.Logf("%s: not run here:\n%s", b, b.body)
		default:
			t.Errorf("%s: info string %q: want toml, json, yaml, text, sh test or sh manual", b, kind)
		}
	}
}

// roleRef finds the roles a fragment uses without defining them.
var roleRef = regexp.MustCompile(`(?m)^role = "([^"]+)"`)

var roleTable = regexp.MustCompile(`(?m)^\[\[role\]\]`)

func TestTOMLExamples(t *testing.T) {
	for _, b := range blocks(t) {
		if len(b.info) == 0 || b.info[0] != "toml" {
			continue
		}
		doc := b.body
		if !strings.Contains(doc, "[source]") {
			head := "[source]\ntype = \"default\"\n[sts]\nregion = \"cn-hangzhou\"\n"
			if strings.HasPrefix(strings.TrimSpace(doc), "access_key") { // a [source] key alone
				head = "[source]\ntype = \"access_key\"\naccess_key_id = \"LTAIx\"\n" + doc + "[sts]\nregion = \"cn-hangzhou\"\n"
				doc = ""
			}
			var roles string
			if !roleTable.MatchString(doc) {
				roles = "[[role]]\nname = \"reader\"\narn = \"acs:ram::1234567890123456:role/oss-reader\"\n"
			}
			for _, m := range roleRef.FindAllStringSubmatch(doc, -1) {
				if m[1] != "reader" && !strings.Contains(doc, "name = \""+m[1]+"\"") {
					roles += fmt.Sprintf("[[role]]\nname = %q\narn = \"acs:ram::1234567890123456:role/%s\"\n", m[1], m[1])
				}
			}
			// Table headers are absolute: appended roles stay roles.
			doc = head + doc + roles
		}
		if _, err := config.Parse(strings.NewReader(doc)); err != nil {
			t.Errorf("%s: config does not parse: %v\n%s", b, err, doc)
		}
	}
}

func TestJSONAndYAMLExamples(t *testing.T) {
	for _, b := range blocks(t) {
		if len(b.info) == 0 {
			continue
		}
		switch b.info[0] {
		case "json":
			dec := json.NewDecoder(strings.NewReader(b.body))
			for dec.More() {
				var v any
				if err := dec.Decode(&v); err != nil {
					t.Errorf("%s: not JSON: %v\n%s", b, err, b.body)
					break
				}
			}
		case "yaml":
			var v any
			if err := yaml.Unmarshal([]byte(b.body), &v); err != nil {
				t.Errorf("%s: not YAML: %v", b, err)
			}
		}
	}
}

// devDaemon runs ossd serve --dev on testdata/docs.toml and returns its
// socket and the metadata and URI addresses it really took.
func devDaemon(t *testing.T) (*testenv.Daemon, string, map[string]string) {
	t.Helper()
	sock := testenv.SocketPath(t)
	d := testenv.StartDaemon(t, ossdBin, sock, "serve", "--dev", "--config", "testdata/docs.toml", "--socket", sock)
	addrs := map[string]string{}
	re := regexp.MustCompile(`metadata: http://(\S+) \(ECS metadata compatible, role (\S+)\)`)
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(d.Stdout.String(), "Stop with Ctrl-C"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no dev banner:\n%s", d.Stdout)
		}
	}
	for _, m := range re.FindAllStringSubmatch(d.Stdout.String(), -1) {
		addrs[strings.TrimSuffix(m[2], ")")] = m[1]
	}
	return d, sock, addrs
}

func TestShellExamples(t *testing.T) {
	bash := needs.Tool(t, "bash", "bash")
	needs.Tool(t, "curl", "curl")
	d, sock, md := devDaemon(t)
	home := t.TempDir()
	for _, b := range blocks(t) {
		if strings.Join(b.info, " ") != "sh test" {
			continue
		}
		script := b.body
		if strings.Contains(script, "\n$ ") || strings.HasPrefix(script, "$ ") {
			var cmds []string
			for _, l := range strings.Split(script, "\n") {
				if c, ok := strings.CutPrefix(l, "$ "); ok {
					cmds = append(cmds, c)
				}
			}
			script = strings.Join(cmds, "\n") + "\n"
		}
		for _, p := range []string{"/run/ossd/ossd.sock", "/tmp/ossd-dev.sock"} {
			script = strings.ReplaceAll(script, p, sock)
		}
		if a := md["demo"]; a != "" {
			script = strings.ReplaceAll(script, "127.0.0.1:8100", a)
		}
		cmd := exec.Command(bash, "-euo", "pipefail", "-c", script)
		cmd.Dir = home
		cmd.Env = []string{"PATH=" + filepath.Dir(ossdBin) + ":/usr/bin:/bin", "HOME=" + home, "OSSD_SOCKET=" + sock,
			"HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy="}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\nscript:\n%s\noutput:\n%s", b, err, script, out)
		}
	}
	d.Stop(t)
}

// TestAuditExample: the audit line shown in docs/presign.md has the keys
// of the line the daemon writes, in the same order.
func TestAuditExample(t *testing.T) {
	var doc string
	for _, b := range blocks(t) {
		if b.file == "presign.md" && len(b.info) > 0 && b.info[0] == "json" && strings.Contains(b.body, `"event":"presign"`) {
			doc = b.body
		}
	}
	if doc == "" {
		t.Fatal("docs/presign.md shows no audit line")
	}
	d, sock, _ := devDaemon(t)
	cmd := exec.Command(ossdBin, "presign", "--socket", sock, "--role", "reader", "oss://my-bucket/public/a b.txt", "--expires", "1h")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("presign: %v\n%s", err, out)
	}
	var real string
	for deadline := time.Now().Add(20 * time.Second); real == ""; time.Sleep(10 * time.Millisecond) {
		for _, l := range strings.Split(d.Stderr.String(), "\n") {
			if strings.HasPrefix(l, "{") && strings.Contains(l, `"event":"presign"`) {
				real = l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit line in:\n%s", d.Stderr)
		}
	}
	if got, want := keys(t, doc), keys(t, real); got != want {
		t.Errorf("docs/presign.md audit keys\n  %s\nthe daemon writes\n  %s\n%s", got, want, real)
	}
}

// keys returns the key paths of the JSON object line, in order, nested
// objects included: "caller.uid".
func keys(t *testing.T, line string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	var ks []string
	var walk func(prefix string)
	walk = func(prefix string) {
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatalf("%v in %s", err, line)
			}
			k := prefix + tok.(string)
			ks = append(ks, k)
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			if len(v) > 0 && v[0] == '{' {
				sub := json.NewDecoder(strings.NewReader(string(v)))
				outer := dec
				dec = sub
				dec.Token() // {
				walk(k + ".")
				dec = outer
			}
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", line)
	}
	walk("")
	return strings.Join(ks, ",")
}
