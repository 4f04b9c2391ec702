package ossd_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/ossd/ossd"
)

// tokenTexts are texts a Token must give back unchanged: canonical base64
// (held decoded) and every near miss of it (held as text).
var tokenTexts = []string{
	"",
	"CAIS9gF1q6Ft5B2yfSjIr5bSEsjHj+tR54SRYnH2uVY7fNQ=", // canonical, one '='
	"QUJD",       // canonical, no padding
	"QQ==",       // canonical, two '='
	"QR==",       // nonzero padding bits: decodes to "A" as QQ== does
	"QUJ",        // unpadded
	"QUJD\nRA==", // a line break, which decoding skips
	"QUJD\r\n",
	"CAIS-url_safe-alphabet==",
	"t",
	"====",
	"needs \"escaping\" <&> é",
	"\x00\x01",
}

func TestTokenGivesBackItsText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	texts := tokenTexts
	for n := range 40 { // every length mod 3, and STS's size
		buf := make([]byte, n*31)
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		texts = append(texts, base64.StdEncoding.EncodeToString(buf))
	}
	for _, text := range texts {
		tok := ossd.NewToken(text)
		if got := tok.Reveal(); got != text {
			t.Errorf("NewToken(%q).Reveal() = %q", text, got)
		}
		if tok.Len() != len(text) || tok.IsZero() != (text == "") {
			t.Errorf("NewToken(%q): Len %d, IsZero %v", text, tok.Len(), tok.IsZero())
		}
		if got, _ := tok.MarshalText(); string(got) != text {
			t.Errorf("NewToken(%q).MarshalText() = %q", text, got)
		}
		if got, _ := tok.AppendText([]byte("x")); string(got) != "x"+text {
			t.Errorf("NewToken(%q).AppendText(x) = %q", text, got)
		}
		if tok != ossd.NewToken(text) {
			t.Errorf("two Tokens of %q are not equal", text)
		}
		var back ossd.Token
		if err := back.UnmarshalText([]byte(text)); err != nil || back != tok {
			t.Errorf("UnmarshalText(%q) = %v, %v", text, back.Reveal(), err)
		}
		c := ossd.Credentials{SecurityToken: tok}
		var body struct{ SecurityToken string }
		if err := json.Unmarshal(c.AppendJSON(nil), &body); err != nil || body.SecurityToken != text {
			t.Errorf("AppendJSON of %q: SecurityToken %q, %v", text, body.SecurityToken, err)
		}
	}
	if ossd.NewToken("QQ==") == ossd.NewToken("QR==") {
		t.Error("two texts that decode alike made equal Tokens")
	}
}

// TestTokenHoldsDecodedBytes: an STS-sized canonical token costs three
// quarters of its text, plus the tag byte, and the text is made without
// allocating when appended.
func TestTokenHoldsDecodedBytes(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb, 0x10, 0x7f}, 302)
	text := "CAIS" + base64.StdEncoding.EncodeToString(raw) // 1,212 characters, like STS's
	_, _, tok := ossd.Pack("", "", text)
	if got, want := ossd.TokenSize(tok), 1+len(text)/4*3; got != want {
		t.Errorf("a %d-character token holds %d bytes, want %d", len(text), got, want)
	}
	// What a session keeps is the allocation, not the length: 910 bytes
	// fit in Go's 1,024-byte size class, the text's 1,212 would take 1,280.
	// The bound lies between the two classes: whatever else the process
	// allocates meanwhile (a collection, another test) adds a few bytes a
	// session, and 1,025 here once failed a correct program.
	const n = 10000
	keep := make([]ossd.Token, n)
	before := heapAlloc()
	for i := range keep {
		_, _, keep[i] = ossd.Pack("STS.NUgYrLnoC37mZZCNnAbez2", "D9dTLKbLZmPhW4dDYLEx6ZC7Ht6kAdJy", text)
	}
	if per := (heapAlloc() - before) / n; per > 1152 {
		t.Errorf("each packed session keeps %d bytes of heap, want 1,024 (under 1,152; the text's own size class would be 1,280)", per)
	}
	runtime.KeepAlive(keep)
	buf := make([]byte, 0, 2048)
	if n := testing.AllocsPerRun(100, func() { buf, _ = tok.AppendText(buf[:0]) }); n != 0 {
		t.Errorf("AppendText allocates %v times", n)
	}
	c := ossd.Credentials{AccessKeyID: "STS.x", AccessKeySecret: "s", SecurityToken: tok}
	if n := testing.AllocsPerRun(100, func() { buf = c.AppendJSON(buf[:0]) }); n != 0 {
		t.Errorf("AppendJSON allocates %v times", n)
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestPackSharesOneAllocation: the three values a session keeps come back
// equal to what STS sent, laid end to end in one allocation.
func TestPackSharesOneAllocation(t *testing.T) {
	id, secret, token := "STS.NUgYrLnoC37mZZCNnAbez2", "D9dTLKbLZmPhW4dDYLEx6ZC7Ht6kAdJyAwuAQp4u", "CAIS9gF1q6Ft5B2yfSjIr5bSEsjHj+tR54SRYnH2uVY7fNQ="
	i, s, k := ossd.Pack(id, secret, token)
	if i != id || s.Reveal() != secret || k.Reveal() != token {
		t.Fatalf("Pack = %q, %q, %q; want the inputs", i, s.Reveal(), k.Reveal())
	}
	base := unsafe.StringData(i)
	if unsafe.StringData(string(s)) != (*byte)(unsafe.Add(unsafe.Pointer(base), len(i))) ||
		ossd.TokenData(k) != (*byte)(unsafe.Add(unsafe.Pointer(base), len(i)+len(s))) {
		t.Error("the three values do not share one allocation")
	}
	if unsafe.StringData(i) == unsafe.StringData(id) {
		t.Error("Pack returned the input, not a copy")
	}
}

// TestTokenRedacted: no rendering but the deliberate ones shows the token.
func TestTokenRedacted(t *testing.T) {
	const text = "CAIS9gF1q6Ft5B2yfSjIr5bSEsjHj+tR54SRYnH2uVY7fNQ="
	tok := ossd.NewToken(text)
	c := ossd.Credentials{AccessKeyID: "STS.x", SecurityToken: tok}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("m", "token", tok, "creds", c)
	out := fmt.Sprintf("%v %s %+v %#v %v %+v %#v %q|", tok, tok, tok, tok, c, c, c, tok) + logs.String()
	decoded, _ := base64.StdEncoding.DecodeString(text)
	for _, leak := range []string{text, text[4:20], string(decoded[3:12]), fmt.Sprint([]byte(decoded[3:12]))[1:20]} {
		if strings.Contains(out, leak) {
			t.Errorf("%q shows in %s", leak, out)
		}
	}
	if !strings.Contains(out, ossd.Redacted) {
		t.Errorf("no %s in %s", ossd.Redacted, out)
	}
}

// FuzzToken: for any text, a Token gives back exactly that text, by every
// route out of it, and two Tokens are equal exactly when their texts are.
func FuzzToken(f *testing.F) {
	for _, s := range tokenTexts {
		f.Add(s, "QQ==")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ta, tb := ossd.NewToken(a), ossd.NewToken(b)
		if got := ta.Reveal(); got != a {
			t.Fatalf("NewToken(%q).Reveal() = %q", a, got)
		}
		if got, _ := ta.MarshalText(); string(got) != a || ta.Len() != len(a) {
			t.Fatalf("NewToken(%q): MarshalText %q, Len %d", a, got, ta.Len())
		}
		if (ta == tb) != (a == b) {
			t.Fatalf("NewToken(%q) == NewToken(%q) is %v", a, b, ta == tb)
		}
		want := ossd.AppendJSONString(nil, a)
		c := ossd.Credentials{SecurityToken: ta}
		if got := c.AppendJSON(nil); !bytes.Contains(got, append([]byte(`"SecurityToken":`), want...)) {
			t.Fatalf("AppendJSON of %q = %s, want the token as %s", a, got, want)
		}
	})
}

// TestPackedGivesBackCredentials: what a cache keeps gives back every field
// a caller is served, in UTC, without allocating; ServerTime is dropped.
func TestPackedGivesBackCredentials(t *testing.T) {
	east := time.FixedZone("UTC+8", 8*3600)
	for _, c := range []ossd.Credentials{
		{},
		{AccessKeyID: "STS.NUgYrLnoC37mZZCNnAbez2", AccessKeySecret: "D9dTLKbLZmPhW4dDYLEx6ZC7Ht6kAdJy",
			SecurityToken: ossd.NewToken("CAIS9gF1q6Ft5B2yfSjIr5bSEsjHj+tR54SRYnH2uVY7fNQ="),
			Expiration:    time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC), LastUpdated: time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC),
			ServerTime: time.Date(2026, 12, 2, 7, 0, 1, 0, time.UTC)},
		{AccessKeyID: "a", AccessKeySecret: "", SecurityToken: ossd.NewToken("not base64"),
			Expiration: time.Date(2300, 1, 1, 0, 0, 0, 999_999_999, east), LastUpdated: time.Date(1900, 1, 1, 0, 0, 0, 1, east)},
	} {
		p := c.Pack()
		var got ossd.Credentials
		if n := testing.AllocsPerRun(10, func() { got = p.Credentials() }); n != 0 {
			t.Errorf("Credentials allocates %v times", n)
		}
		want := c
		want.Expiration, want.LastUpdated, want.ServerTime = c.Expiration.UTC(), c.LastUpdated.UTC(), time.Time{}
		if got != want {
			t.Errorf("Pack of %#v gave back %+v, want %+v", c, got, want)
		}
		if !p.Expiration().Equal(c.Expiration) {
			t.Errorf("Expiration = %v, want %v", p.Expiration(), c.Expiration)
		}
	}
}
