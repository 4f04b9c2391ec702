package config_test

import (
	"errors"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/config"
)

func metadataTable(listen, role, extra string) string {
	return "[[metadata]]\nlisten = \"" + listen + "\"\nrole = \"" + role + "\"\n" + extra
}

// metadataTests: a case with no fields is valid; otherwise each field must
// be among the *FieldErrors, with wantErr in the message, and nothing else.
var metadataTests = []struct {
	name    string
	in      string
	fields  []string
	wantErr string
}{
	{name: "loopback", in: metadataTable("127.0.0.1:8100", "reader", "")},
	{name: "localhost", in: metadataTable("localhost:8100", "reader", "tokens = \"required\"\n")},
	{name: "ipv6 loopback", in: metadataTable("[::1]:8100", "reader", "tokens = \"optional\"\n")},
	{name: "metadata address", in: metadataTable("100.100.100.200:80", "reader", "")},
	{name: "non-loopback allowed", in: metadataTable("10.0.0.5:8100", "reader", "allow_non_loopback = true\n")},
	{name: "two listeners", in: metadataTable("127.0.0.1:8100", "reader", "") + metadataTable("127.0.0.1:8102", "reader", "")},
	{name: "uri", in: "[uri]\nlisten = \"127.0.0.1:8101\"\nstate_dir = \"/var/lib/ossd\"\n"},
	{name: "uri disabled", in: "[uri]\nlisten = \"\"\n"},

	{name: "non-loopback", in: metadataTable("10.0.0.5:8100", "reader", ""), fields: []string{"metadata[0].listen"}, wantErr: "allow_non_loopback"},
	{name: "all interfaces", in: metadataTable(":8100", "reader", ""), fields: []string{"metadata[0].listen"}, wantErr: "not a loopback address"},
	{name: "hostname", in: metadataTable("metadata.internal:80", "reader", ""), fields: []string{"metadata[0].listen"}, wantErr: "IP address or localhost"},
	{name: "no port", in: metadataTable("127.0.0.1", "reader", ""), fields: []string{"metadata[0].listen"}, wantErr: "malformed address"},
	{name: "port zero", in: metadataTable("127.0.0.1:0", "reader", ""), fields: []string{"metadata[0].listen"}, wantErr: "out of range"},
	{name: "port too big", in: metadataTable("127.0.0.1:65536", "reader", ""), fields: []string{"metadata[0].listen"}, wantErr: "out of range"},
	{name: "listen missing", in: "[[metadata]]\nrole = \"reader\"\n", fields: []string{"metadata[0].listen"}, wantErr: "required"},
	{name: "role missing", in: "[[metadata]]\nlisten = \"127.0.0.1:8100\"\n", fields: []string{"metadata[0].role"}, wantErr: "required"},
	{name: "unknown role", in: metadataTable("127.0.0.1:8100", "writer", ""), fields: []string{"metadata[0].role"}, wantErr: `no [[role]] named "writer"`},
	{name: "bad tokens", in: metadataTable("127.0.0.1:8100", "reader", "tokens = \"always\"\n"), fields: []string{"metadata[0].tokens"}, wantErr: `unknown mode "always"`},
	{name: "duplicate", in: metadataTable("127.0.0.1:8100", "reader", "") + metadataTable("127.0.0.1:8100", "reader", ""), fields: []string{"metadata[1].listen"}, wantErr: "also metadata[0].listen"},
	{name: "duplicate spelled differently", in: metadataTable("[::ffff:127.0.0.1]:8100", "reader", "") + metadataTable("127.0.0.1:8100", "reader", ""), fields: []string{"metadata[1].listen"}, wantErr: "duplicate"},
	{name: "uri clashes with metadata", in: metadataTable("127.0.0.1:8100", "reader", "") + "[uri]\nlisten = \"127.0.0.1:8100\"\n", fields: []string{"uri.listen"}, wantErr: "also metadata[0].listen"},
	{name: "uri non-loopback", in: "[uri]\nlisten = \"100.100.100.200:80\"\n", fields: []string{"uri.listen"}, wantErr: "not a loopback address"},
	{name: "uri malformed", in: "[uri]\nlisten = \"8101\"\n", fields: []string{"uri.listen"}, wantErr: "malformed"},
	{name: "uri relative state dir", in: "[uri]\nlisten = \"127.0.0.1:8101\"\nstate_dir = \"state\"\n", fields: []string{"uri.state_dir"}, wantErr: "absolute"},
	{name: "unknown key", in: metadataTable("127.0.0.1:8100", "reader", "allow = true\n"), wantErr: `unknown key "metadata.allow"`},
	{
		name:   "all reported together",
		in:     metadataTable("0.0.0.0:80", "nobody", "tokens = \"x\"\n") + "[uri]\nlisten = \"10.1.1.1:1\"\n",
		fields: []string{"metadata[0].listen", "metadata[0].role", "metadata[0].tokens", "uri.listen"},
	},
}

func TestMetadataConfig(t *testing.T) {
	for _, tc := range metadataTests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse(strings.NewReader(ok + tc.in))
			if tc.fields == nil && tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted it: %+v %+v", cfg.Metadata, cfg.URI)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q lacks %q", err, tc.wantErr)
			}
			if tc.fields != nil {
				if got := fieldsOf(err); !reflect.DeepEqual(got, tc.fields) {
					t.Errorf("fields = %q, want %q (error: %v)", got, tc.fields, err)
				}
			}
		})
	}
}

// fieldsOf flattens joined errors into the fields of their *FieldErrors.
func fieldsOf(err error) []string {
	var fe *config.FieldError
	if errors.As(err, &fe) && fe == err {
		return []string{fe.Field}
	}
	var out []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, fieldsOf(e)...)
		}
	}
	return out
}

func TestMetadataDecoded(t *testing.T) {
	in := ok + metadataTable("100.100.100.200:80", "reader", "tokens = \"required\"\n") +
		metadataTable("127.0.0.1:8100", "reader", "") + "[uri]\nlisten = \"127.0.0.1:8101\"\n"
	cfg, err := config.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []config.Metadata{
		{Listen: "100.100.100.200:80", Role: "reader", Tokens: "required"},
		{Listen: "127.0.0.1:8100", Role: "reader"},
	}
	if !reflect.DeepEqual(cfg.Metadata, want) {
		t.Errorf("Metadata = %+v, want %+v", cfg.Metadata, want)
	}
	if !cfg.Metadata[0].TokensRequired() || cfg.Metadata[1].TokensRequired() {
		t.Errorf("TokensRequired = %v, %v; want true, false", cfg.Metadata[0].TokensRequired(), cfg.Metadata[1].TokensRequired())
	}
	if cfg.URI != (config.URI{Listen: "127.0.0.1:8101"}) {
		t.Errorf("URI = %+v", cfg.URI)
	}
}

// FuzzMetadataConfig checks that whatever listen address Validate accepts
// can be split into a host and port.
func FuzzMetadataConfig(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8100", "[::1]:1", ":80", "localhost:65535", "100.100.100.200:80", "[fe80::1%lo]:80"} {
		f.Add(s)
	}
	c, err := config.Parse(strings.NewReader(ok))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, listen string) {
		c := *c
		c.Metadata = []config.Metadata{{Listen: listen, Role: "reader"}}
		if c.Validate() != nil {
			return
		}
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			t.Fatalf("Validate accepted listen %q: %v", listen, err)
		}
		ip, err := netip.ParseAddr(host)
		if host != "localhost" && (err != nil || !ip.IsLoopback() && ip.Unmap().String() != config.MetadataAddr) {
			t.Fatalf("Validate accepted host %q of %q", host, listen)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			t.Fatalf("Validate accepted port %q of %q", port, listen)
		}
	})
}
