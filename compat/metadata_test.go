package compat

import (
	"io"
	"net/http"
	"strings"
	"testing"

	sdkcreds "github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	osscreds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/credentials-go/credentials"
	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/ossd/ossd/metadata"
)

// The real metadata address, owned by lo inside the test's namespace.
const mdAddr = "100.100.100.200:80"

// ecsClients read role "reader" from http://100.100.100.200 the way each
// official client does; empty role names make them discover the role.
func ecsClients() []mdClient {
	return []mdClient{
		{"credentials-go/ecs_ram_role", func(*testing.T) (mdCreds, error) {
			return mdCredentialsGo(&credentials.Config{Type: mdStr("ecs_ram_role"), RoleName: mdStr("reader")})
		}},
		{"credentials-go/ecs_ram_role discovering the role", func(*testing.T) (mdCreds, error) {
			return mdProvider(providers.NewECSRAMRoleCredentialsProviderBuilder().Build())
		}},
		{"credentials-go/ecs_ram_role IMDSv1 disabled", func(*testing.T) (mdCreds, error) {
			return mdProvider(providers.NewECSRAMRoleCredentialsProviderBuilder().WithRoleName("reader").WithDisableIMDSv1(true).Build())
		}},
		{"alibaba-cloud-sdk-go/ecs_ram_role", func(*testing.T) (mdCreds, error) {
			return mdSDKGo(sdkcreds.NewECSRAMRoleCredentialsProviderBuilder().WithRoleName("reader").Build())
		}},
		{"alibaba-cloud-sdk-go/ecs_ram_role discovering the role", func(*testing.T) (mdCreds, error) {
			return mdSDKGo(sdkcreds.NewECSRAMRoleCredentialsProviderBuilder().Build())
		}},
		{"oss-go-sdk-v2/ecs_role", func(*testing.T) (mdCreds, error) {
			return mdOSS(osscreds.NewEcsRoleCredentialsProvider(osscreds.EcsRamRole("reader")))
		}},
		{"oss-go-sdk-v2/ecs_role discovering the role", func(*testing.T) (mdCreds, error) {
			return mdOSS(osscreds.NewEcsRoleCredentialsProvider())
		}},
		{"node/ecs_ram_role", func(t *testing.T) (mdCreds, error) { return mdNode(t, nil, "ecs_ram_role", "reader") }},
		{"node/ecs_ram_role discovering the role", func(t *testing.T) (mdCreds, error) { return mdNode(t, nil, "ecs_ram_role") }},
	}
}

// TestMetadataSDKs: unmodified clients read exactly what ossd issued from a
// metadata listener on 100.100.100.200:80, tokens optional.
func TestMetadataSDKs(t *testing.T) {
	if !mdNetns(t, true) {
		return
	}
	d := mdNewDaemon(t)
	d.serveMetadata(t, mdAddr, false)
	clients := append(ecsClients(), mdClient{"credentials-go/default chain", func(*testing.T) (mdCreds, error) {
		return mdCredentialsGo(nil) // no env, no profile: the chain reaches the metadata service
	}})
	mdRun(t, d.env, clients)
	if d.srv.Tokens() == 0 {
		t.Error("no client fetched a metadata token")
	}
	if n := len(d.env.STS.Issued()); n != 1 {
		t.Errorf("STS issued %d credentials, want 1: every client is served from the cache", n)
	}
}

// TestMetadataRequiredTokens: with tokens = "required", the clients that
// fetch tokens work; OSS v2, which never does, is refused, and so is a
// token-less request.
func TestMetadataRequiredTokens(t *testing.T) {
	if !mdNetns(t, true) {
		return
	}
	d := mdNewDaemon(t)
	d.serveMetadata(t, mdAddr, true)
	var fetchTokens []mdClient
	for _, c := range ecsClients() {
		if !strings.HasPrefix(c.name, "oss-go-sdk-v2/") {
			fetchTokens = append(fetchTokens, c)
		}
	}
	mdRun(t, d.env, fetchTokens)
	if _, err := mdOSS(osscreds.NewEcsRoleCredentialsProviderWithoutRefresh(osscreds.EcsRamRole("reader"), func(o *osscreds.EcsRoleCredentialsProviderOptions) { o.Retries = 1 })); err == nil {
		t.Error("OSS v2 read credentials from a listener that requires tokens; docs/metadata.md says it cannot")
	}
	for _, path := range []string{metadata.CredsPath, metadata.CredsPath + "reader"} {
		resp, err := http.Get("http://" + mdAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.Contains(string(body), metadata.CodeTokenRequired) {
			t.Errorf("token-less GET %s = %d %s, want 401", path, resp.StatusCode, mdRedact(string(body), d.env))
		}
		if mdRedact(string(body), d.env) != string(body) {
			t.Errorf("401 body holds a secret")
		}
	}
}

// TestMetadataThroughProxy: Go clients reach a loopback listener through
// HTTP_PROXY, sending absolute-form requests for 100.100.100.200, which
// does not exist in this namespace.
func TestMetadataThroughProxy(t *testing.T) {
	const proxy = "127.0.0.1:8100" // free: the namespace is new
	if !mdNetns(t, false, "HTTP_PROXY=http://"+proxy, "http_proxy=http://"+proxy) {
		return
	}
	d := mdNewDaemon(t)
	d.serveMetadata(t, proxy, false)
	var goClients []mdClient
	for _, c := range ecsClients() {
		if !strings.HasPrefix(c.name, "node/") { // Node ignores HTTP_PROXY (SPEC §2)
			goClients = append(goClients, c)
		}
	}
	mdRun(t, d.env, goClients)
}

// TestCredentialsURISDKs: unmodified clients read exactly what ossd issued
// from the credentials URI, named directly or through
// ALIBABA_CLOUD_CREDENTIALS_URI at the end of the default chain, with the
// metadata service disabled.
func TestCredentialsURISDKs(t *testing.T) {
	if !mdNetns(t, false) {
		return
	}
	d := mdNewDaemon(t)
	url := d.serveURI(t)
	chainEnv := []string{"ALIBABA_CLOUD_CREDENTIALS_URI=" + url, "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"}
	setChainEnv := func(t *testing.T) {
		for _, kv := range chainEnv {
			k, v, _ := strings.Cut(kv, "=")
			t.Setenv(k, v)
		}
	}
	mdRun(t, d.env, []mdClient{
		{"credentials-go/credentials_uri", func(*testing.T) (mdCreds, error) {
			return mdCredentialsGo(&credentials.Config{Type: mdStr("credentials_uri"), Url: mdStr(url)})
		}},
		{"credentials-go/URLCredentialsProvider", func(*testing.T) (mdCreds, error) {
			return mdProvider(providers.NewURLCredentialsProviderBuilder().WithUrl(url).Build())
		}},
		{"credentials-go/default chain", func(t *testing.T) (mdCreds, error) {
			setChainEnv(t)
			return mdCredentialsGo(nil)
		}},
		{"alibaba-cloud-sdk-go/URLCredentialsProvider", func(*testing.T) (mdCreds, error) {
			return mdSDKGo(sdkcreds.NewURLCredentialsProviderBuilderBuilder().WithUrl(url).Build())
		}},
		{"alibaba-cloud-sdk-go/default chain", func(t *testing.T) (mdCreds, error) {
			setChainEnv(t)
			return mdSDKGo(sdkcreds.NewDefaultCredentialsProvider(), nil)
		}},
		{"node/credentials_uri", func(t *testing.T) (mdCreds, error) { return mdNode(t, nil, "credentials_uri", url) }},
		{"node/default chain", func(t *testing.T) (mdCreds, error) { return mdNode(t, chainEnv, "default") }},
	})
	wrong := url[:len(url)-4] + "AAAA"
	if _, err := mdCredentialsGo(&credentials.Config{Type: mdStr("credentials_uri"), Url: mdStr(wrong)}); err == nil {
		t.Error("credentials-go read credentials from a wrong URI")
	}
	if n := len(d.env.STS.Issued()); n != 1 {
		t.Errorf("STS issued %d credentials, want 1", n)
	}
}
