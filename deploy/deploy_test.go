package deploy_test

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/config"
)

// imageUser is the Containerfile's USER; the manifests must run ossd as it.
const imageUser = 65532

// parseConfig parses the ossd.toml of a ConfigMap as the daemon would.
func parseConfig(t *testing.T, cm *object) *config.Config {
	t.Helper()
	toml, ok := cm.Data["ossd.toml"]
	if !ok {
		t.Fatalf("ConfigMap %s has no ossd.toml", cm.Metadata.Name)
	}
	cfg, err := config.Parse(strings.NewReader(toml))
	if err != nil {
		t.Fatalf("ConfigMap %s: ossd.toml does not parse:\n%v", cm.Metadata.Name, err)
	}
	return cfg
}

// lockedDown checks the securityContext every non-root container needs.
func lockedDown(t *testing.T, c *container, uid int64) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil {
		t.Errorf("%s: no securityContext", c.Name)
		return
	}
	check := func(what string, ok bool) {
		if !ok {
			t.Errorf("%s: securityContext lacks %s", c.Name, what)
		}
	}
	check("runAsNonRoot: true", sc.RunAsNonRoot != nil && *sc.RunAsNonRoot)
	check("readOnlyRootFilesystem: true", sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem)
	check("allowPrivilegeEscalation: false", sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation)
	check("capabilities drop ALL, add none", sc.Capabilities != nil && slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) && len(sc.Capabilities.Add) == 0)
	if uid >= 0 {
		check(fmt.Sprintf("runAsUser: %d", uid), sc.RunAsUser != nil && *sc.RunAsUser == uid)
	}
}

// rootHelper checks an init container that must run as root: all
// capabilities dropped but the named ones.
func rootHelper(t *testing.T, c *container, caps ...string) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) || !slices.Equal(sc.Capabilities.Add, caps) {
		t.Errorf("%s: capabilities must drop ALL and add only %v", c.Name, caps)
		return
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: needs allowPrivilegeEscalation: false and readOnlyRootFilesystem: true", c.Name)
	}
}

// servesConfig checks that c runs `ossd serve --config X` with X the key
// ossd.toml of a mounted ConfigMap, and returns that ConfigMap's name.
func servesConfig(t *testing.T, p *podSpec, c *container) string {
	t.Helper()
	i := slices.Index(c.Args, "--config")
	if len(c.Args) < 3 || c.Args[0] != "serve" || i < 0 || i+1 >= len(c.Args) {
		t.Fatalf("%s: args %q, want serve --config FILE", c.Name, c.Args)
	}
	path := c.Args[i+1]
	v, _ := p.mountOf(t, c, filepath.Dir(path))
	if v.ConfigMap == nil || filepath.Base(path) != "ossd.toml" {
		t.Fatalf("%s: %s is not the key ossd.toml of a mounted ConfigMap", c.Name, path)
	}
	return v.ConfigMap.Name
}

// probesSocket checks that a probe runs `ossd status --socket sock` with
// extra flags: none for startup and readiness (exit 0 only while every role
// can be served), --live for liveness (the daemon answers at all: an STS
// outage must not restart it).
func probesSocket(t *testing.T, c *container, pr *probe, sock string, extra ...string) {
	t.Helper()
	want := append([]string{"/usr/bin/ossd", "status", "--socket", sock}, extra...)
	if pr == nil || pr.Exec == nil || !slices.Equal(pr.Exec.Command, want) {
		t.Errorf("%s: probe should run %q", c.Name, want)
	}
}

func TestSidecar(t *testing.T) {
	objs := load(t, "kubernetes/sidecar.yaml")
	p := find(t, objs, "Deployment", "app").pod()
	ossd := p.container(t, "ossd")
	cfg := parseConfig(t, find(t, objs, "ConfigMap", servesConfig(t, p, ossd)))

	// The metadata listener is the real metadata address, and the
	// container says so.
	var ports []int
	for _, m := range cfg.Metadata {
		host, port, err := net.SplitHostPort(m.Listen)
		if err != nil || host != config.MetadataAddr {
			continue
		}
		n, _ := strconv.Atoi(port)
		ports = append(ports, n)
	}
	if !slices.Equal(ports, []int{80}) {
		t.Fatalf("config's metadata listeners on %s: ports %v, want [80]", config.MetadataAddr, ports)
	}
	if len(ossd.Ports) != 1 || ossd.Ports[0].ContainerPort != 80 {
		t.Errorf("ossd containerPort = %v, want 80", ossd.Ports)
	}
	// Port 80 without a capability: the pod lowers the privileged range.
	var start = -1
	for _, s := range p.SecurityContext.Sysctls {
		if s.Name == "net.ipv4.ip_unprivileged_port_start" {
			start, _ = strconv.Atoi(s.Value)
		}
	}
	if start < 0 || start > 80 {
		t.Errorf("pod sysctl net.ipv4.ip_unprivileged_port_start = %d, want 0..80 so that a non-root ossd binds :80", start)
	}
	// The init container puts the address on the pod's loopback.
	init := p.container(t, "metadata-address")
	if p.InitContainers[0].Name != "metadata-address" {
		t.Error("metadata-address is not the first init container")
	}
	if cmd := strings.Join(init.Command, " "); cmd != "ip addr replace 100.100.100.200/32 dev lo" && cmd != "ip addr add 100.100.100.200/32 dev lo" {
		t.Errorf("metadata-address runs %q", cmd)
	}
	rootHelper(t, init, "NET_ADMIN")
	// The emptyDir is 0777; ossd accepts it once it is sticky, like /tmp.
	dirInit := p.container(t, "socket-dir")
	if cmd := strings.Join(dirInit.Command, " "); cmd != "chmod 1777 "+filepath.Dir(cfg.Server.Socket) {
		t.Errorf("socket-dir runs %q, want chmod 1777 on the socket's directory", cmd)
	}
	if v, _ := p.mountOf(t, dirInit, filepath.Dir(cfg.Server.Socket)); v.EmptyDir == nil {
		t.Error("socket-dir does not mount the socket's emptyDir")
	}
	if slices.IndexFunc(p.InitContainers, func(c container) bool { return c.Name == "socket-dir" }) > slices.IndexFunc(p.InitContainers, func(c container) bool { return c.Name == "ossd" }) {
		t.Error("socket-dir runs after ossd starts")
	}
	rootHelper(t, dirInit)

	// ossd: a native sidecar, probed on its socket, in a writable runtime dir.
	if ossd.RestartPolicy != "Always" || p.container(t, "app") == nil {
		t.Errorf("ossd restartPolicy = %q, want Always (a native sidecar)", ossd.RestartPolicy)
	}
	sock := cfg.Server.Socket
	if v, ro := p.mountOf(t, ossd, filepath.Dir(sock)); v.EmptyDir == nil || ro {
		t.Errorf("socket dir %s: want a writable emptyDir", filepath.Dir(sock))
	}
	probesSocket(t, ossd, ossd.StartupProbe, sock)
	probesSocket(t, ossd, ossd.ReadinessProbe, sock)
	probesSocket(t, ossd, ossd.LivenessProbe, sock, "--live")
	lockedDown(t, ossd, imageUser)
	lockedDown(t, p.container(t, "app"), -1)

	// The source credential comes from the Secret in this file.
	checkSecretRefs(t, objs, ossd)
	if cfg.Source.Type != config.SourceAccessKey && cfg.Source.Type != config.SourceOIDC {
		t.Errorf("source type %q: in a sidecar only access_key or oidc work (the metadata address is shadowed)", cfg.Source.Type)
	}
}

// checkSecretRefs checks that every secretKeyRef of c names a key of a
// Secret in objs.
func checkSecretRefs(t *testing.T, objs []object, c *container) {
	t.Helper()
	refs := 0
	for _, e := range c.Env {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		refs++
		r := e.ValueFrom.SecretKeyRef
		if _, ok := find(t, objs, "Secret", r.Name).StringData[r.Key]; !ok {
			t.Errorf("%s: env %s refers to missing key %s of Secret %s", c.Name, e.Name, r.Key, r.Name)
		}
	}
	if refs == 0 {
		t.Errorf("%s: no source credential from a Secret", c.Name)
	}
}

func TestDaemonSet(t *testing.T) {
	objs := load(t, "kubernetes/daemonset.yaml")
	ds := find(t, objs, "DaemonSet", "ossd")
	p := ds.pod()
	ossd := p.container(t, "ossd")
	cm := find(t, objs, "ConfigMap", servesConfig(t, p, ossd))
	if cm.Metadata.Namespace != ds.Metadata.Namespace {
		t.Errorf("ConfigMap in namespace %q, DaemonSet in %q", cm.Metadata.Namespace, ds.Metadata.Namespace)
	}
	cfg := parseConfig(t, cm)
	sock := cfg.Server.Socket
	dir := filepath.Dir(sock)
	if dir != "/run/ossd" {
		t.Errorf("socket %s: want it in /run/ossd", sock)
	}
	hostDir := func(p *podSpec, c *container) string {
		v, _ := p.mountOf(t, c, dir)
		if v.HostPath == nil {
			t.Fatalf("%s: %s is not a hostPath", c.Name, dir)
		}
		return v.HostPath.Path
	}
	if got := hostDir(p, ossd); got != "/run/ossd" {
		t.Errorf("ossd's hostPath = %s, want /run/ossd", got)
	}
	if got := hostDir(p, p.container(t, "socket-dir")); got != "/run/ossd" {
		t.Errorf("socket-dir's hostPath = %s, want /run/ossd", got)
	}
	rootHelper(t, p.container(t, "socket-dir"), "CHOWN", "FOWNER")
	probesSocket(t, ossd, ossd.ReadinessProbe, sock)
	probesSocket(t, ossd, ossd.LivenessProbe, sock, "--live")
	lockedDown(t, ossd, imageUser)
	if g := ossd.SecurityContext.RunAsGroup; g == nil || *g != imageUser {
		t.Errorf("ossd runAsGroup = %v, want %d", g, imageUser)
	}

	// The client: the same host directory, read-only, OSSD_SOCKET pointing
	// at the socket, and in the socket's group (mode 0660).
	cp := find(t, objs, "Pod", "ossd-client-example").pod()
	app := cp.container(t, "app")
	if got := hostDir(cp, app); got != "/run/ossd" {
		t.Errorf("client hostPath = %s, want /run/ossd", got)
	}
	if _, ro := cp.mountOf(t, app, dir); !ro {
		t.Error("client mounts /run/ossd writable; read-only is enough to connect")
	}
	if i := slices.IndexFunc(app.Env, func(e envVar) bool { return e.Name == "OSSD_SOCKET" }); i < 0 || app.Env[i].Value != sock {
		t.Errorf("client OSSD_SOCKET is not %s", sock)
	}
	if i := slices.IndexFunc(app.Env, func(e envVar) bool { return e.Name == "OSSD_DAEMON_UID" }); i < 0 || app.Env[i].Value != strconv.Itoa(imageUser) {
		t.Errorf("client OSSD_DAEMON_UID is not %d: the client refuses a socket served by ossd's uid", imageUser)
	}
	if cfg.Server.FileMode() != 0o660 || !slices.Contains(cp.SecurityContext.SupplementalGroups, imageUser) {
		t.Errorf("socket mode %v and client groups %v: the client cannot connect", cfg.Server.FileMode(), cp.SecurityContext.SupplementalGroups)
	}
	if nr := cp.SecurityContext.RunAsNonRoot; nr == nil || !*nr {
		t.Error("client pod lacks runAsNonRoot: true")
	}
}
