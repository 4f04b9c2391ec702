package deploy_test

import (
	"github.com/ossd/ossd/internal/needs"

	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/ossd/ossd/internal/localsts"
	"github.com/ossd/ossd/internal/logtest"
)

const (
	sidecarMarker = "OSSD_DEPLOY_SIDECAR_CHILD" // set in the namespaced child; holds the ossd binary
)

// TestSidecarRuns plays the pod of kubernetes/sidecar.yaml on this machine,
// in a private user, network and mount namespace: it runs the init
// container's command as written, the real ossd binary with the
// ConfigMap's config (its STS endpoint pointed at a local STS that knows
// the Secret's AccessKey) and the container's args and env, waits for the
// startup probe's command to pass, and then fetches credentials the way the
// app container's SDK does: credentials-go's ECS RAM role provider at
// 100.100.100.200.
func TestSidecarRuns(t *testing.T) {
	if bin := os.Getenv(sidecarMarker); bin != "" {
		sidecarPod(t, bin)
		return
	}
	unshare := needTool(t, "unshare")
	needTool(t, "ip")
	bin := filepath.Join(t.TempDir(), "ossd")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/ossd").CombinedOutput(); err != nil {
		t.Fatalf("build ossd: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "--user", "--map-root-user", "--net", "--mount",
		os.Args[0], "-test.run=^TestSidecarRuns$", "-test.count=1", "-test.v")
	cmd.Env = append(cleanEnv(), sidecarMarker+"="+bin)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestSidecarRuns ")) {
		t.Fatalf("the pod, in private namespaces: %v\n%s", err, out)
	}
	t.Logf("in private namespaces:\n%s", out)
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	return needs.Tool(t, name, map[string]string{"unshare": "util-linux", "ip": "iproute2"}[name])
}

// cleanEnv is the test's environment without SDK or proxy variables.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch u := strings.ToUpper(k); {
		case strings.HasPrefix(u, "ALIBABA_CLOUD_"), strings.HasSuffix(u, "_PROXY"), u == "HOME":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "HOME=/nonexistent")
}

// sidecarPod runs inside the namespaces.
func sidecarPod(t *testing.T, bin string) {
	objs := load(t, "kubernetes/sidecar.yaml")
	p := find(t, objs, "Deployment", "app").pod()
	ossd, app := p.container(t, "ossd"), p.container(t, "app")
	run(t, "ip", "link", "set", "lo", "up") // the container runtime's part
	run(t, p.container(t, "metadata-address").Command...)

	// The pod's emptyDir volumes, on a tmpfs over /run in this mount namespace.
	if err := syscall.Mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatalf("mount tmpfs on /run: %v", err)
	}
	for _, m := range ossd.VolumeMounts {
		if p.volume(t, m.Name).EmptyDir != nil {
			if !strings.HasPrefix(m.MountPath, "/run/") {
				t.Fatalf("emptyDir at %s: this test provides them under /run only", m.MountPath)
			}
			os.MkdirAll(m.MountPath, 0o700)
			os.Chmod(m.MountPath, 0o777) // as the kubelet makes an emptyDir
		}
	}
	run(t, p.container(t, "socket-dir").Command...)

	cm := find(t, objs, "ConfigMap", servesConfig(t, p, ossd))
	cfg := parseConfig(t, cm)
	secret := find(t, objs, "Secret", "app-ossd-source").StringData
	env := resolveEnv(t, objs, ossd)
	account := strings.Split(cfg.Roles[0].ARN, ":")[3]
	sts := localsts.New(localsts.Config{AccountID: account})
	sts.AddAccessKey(env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"])
	sts.AddRole(cfg.Roles[0].ARN, 12*time.Hour)
	endpoint, err := sts.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sts.Close()

	// The ConfigMap as written, but for the STS endpoint, at a local path.
	toml := strings.Replace(cm.Data["ossd.toml"], "[sts]\n", "[sts]\nendpoint = \""+endpoint+"\"\n", 1)
	cfgPath := filepath.Join(t.TempDir(), "ossd.toml")
	if err := os.WriteFile(cfgPath, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	args := slices.Clone(ossd.Args)
	args[slices.Index(args, "--config")+1] = cfgPath
	cmd := exec.Command(bin, args...)
	stderr := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.Env = cleanEnv()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()

	probe := slices.Clone(ossd.StartupProbe.Exec.Command)
	probe[0] = bin
	for deadline := time.Now().Add(30 * time.Second); exec.Command(probe[0], probe[1:]...).Run() != nil; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("ossd exited before its startup probe passed: %v\n%s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("startup probe %q never passed\nossd stderr:\n%s", probe, stderr)
		}
	}

	// The app: its env, and the SDK's ECS RAM role provider.
	for _, e := range app.Env {
		t.Setenv(e.Name, e.Value)
	}
	prov, err := providers.NewECSRAMRoleCredentialsProviderBuilder().Build()
	if err != nil {
		t.Fatal(err)
	}
	got, err := prov.GetCredentials()
	issued := sts.Issued()
	if err != nil || len(issued) != 1 || got.AccessKeyId != issued[0].AccessKeyID || got.SecurityToken != issued[0].SecurityToken {
		t.Fatalf("app's credentials: %v (err %v); STS issued %d\nossd stderr:\n%s", got, err, len(issued), stderr)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Errorf("ossd after SIGTERM: %v\n%s", err, stderr)
	}
	logtest.NoSecrets(t, "ossd output", stderr.String(), secret["access_key_secret"], issued[0].AccessKeySecret, issued[0].SecurityToken)
}

// resolveEnv returns c's environment, secretKeyRefs read from the Secrets in
// objs.
func resolveEnv(t *testing.T, objs []object, c *container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			r := e.ValueFrom.SecretKeyRef
			v = find(t, objs, "Secret", r.Name).StringData[r.Key]
		}
		env[e.Name] = v
	}
	return env
}

func run(t *testing.T, argv ...string) {
	t.Helper()
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%q: %v\n%s", argv, err, out)
	}
}

// syncBuffer collects a child's output while it runs.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
