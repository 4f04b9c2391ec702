package ossd

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unsafe"
)

// Token is a SecurityToken. STS issues tokens of about 1.2 KB of base64
// text, the largest part of a cached session. A Token whose text is
// canonical standard base64 holds the decoded bytes, three quarters of the
// size, and any other text as it is; either way it gives back exactly the
// text it was made from.
//
// Like a [Secret], a Token renders as REDACTED in logs and under every fmt
// verb, and MarshalText gives its real text. The zero Token is empty, and
// two Tokens are equal (==) exactly when their texts are.
type Token struct {
	// v is "" for the empty Token, else a tag byte and the bytes it names:
	// tagDecoded and the decoded bytes, or tagText and the text.
	v string
}

const (
	tagText    = 't'
	tagDecoded = 'd'
)

// NewToken returns the Token of text.
func NewToken(text string) Token {
	_, _, t := Pack("", "", text)
	return t
}

// Pack returns copies of an AccessKeyId, its secret and its SecurityToken
// that share one allocation: a cached session keeps all three as long as it
// lives, and the two short ones would each take an allocation of their own
// (32 bytes apiece, 6 MB at 100,000 sessions), where they usually fit in
// the rounding of the token's.
func Pack(id, secret, token string) (string, Secret, Token) {
	dec, decoded := decodeCanonical(token)
	n := len(id) + len(secret)
	size := n
	switch {
	case decoded:
		size += 1 + len(dec)
	case token != "":
		size += 1 + len(token)
	}
	var b strings.Builder
	b.Grow(size) // exactly: the allocation is what the session keeps
	b.WriteString(id)
	b.WriteString(secret)
	switch {
	case token == "":
	case decoded:
		b.WriteByte(tagDecoded)
		b.Write(dec)
	default:
		b.WriteByte(tagText)
		b.WriteString(token)
	}
	s := b.String()
	return s[:len(id)], Secret(s[len(id):n]), Token{s[n:]}
}

// decodeCanonical returns the bytes that text encodes, if text is their
// standard padded base64 encoding, the only one: strict decoding refuses
// nonzero padding bits, and the length check the line breaks that
// decoding skips.
func decodeCanonical(text string) ([]byte, bool) {
	if text == "" || len(text)%4 != 0 {
		return nil, false
	}
	dec, err := base64.StdEncoding.Strict().DecodeString(text)
	return dec, err == nil && base64.StdEncoding.EncodedLen(len(dec)) == len(text)
}

// IsZero reports whether t is empty.
func (t Token) IsZero() bool { return t.v == "" }

// Len returns the length of t's text.
func (t Token) Len() int {
	switch {
	case t.v == "":
		return 0
	case t.v[0] == tagDecoded:
		return base64.StdEncoding.EncodedLen(len(t.v) - 1)
	default:
		return len(t.v) - 1
	}
}

// Reveal returns t's text. Call it only where the value leaves the process
// on purpose: a response body, a signature. It allocates; [Token.AppendText]
// does not.
func (t Token) Reveal() string {
	if t.v == "" || t.v[0] != tagDecoded {
		return t.text()
	}
	return string(t.appendText(make([]byte, 0, t.Len())))
}

// text returns the text of a Token that holds it as text, or "".
func (t Token) text() string {
	if t.v == "" {
		return ""
	}
	return t.v[1:]
}

func (t Token) appendText(b []byte) []byte {
	if t.v == "" || t.v[0] != tagDecoded {
		return append(b, t.text()...)
	}
	return base64.StdEncoding.AppendEncode(b, []byte(t.v[1:]))
}

// AppendText appends t's text to b.
func (t Token) AppendText(b []byte) ([]byte, error) { return t.appendText(b), nil }

// MarshalText returns t's text.
func (t Token) MarshalText() ([]byte, error) { return t.appendText(make([]byte, 0, t.Len())), nil }

// UnmarshalText sets t to the Token of text.
func (t *Token) UnmarshalText(text []byte) error {
	*t = NewToken(string(text))
	return nil
}

// appendJSON appends t's text as a JSON string.
func (t Token) appendJSON(b []byte) []byte {
	if t.v == "" || t.v[0] != tagDecoded {
		return AppendJSONString(b, t.text())
	}
	b = append(b, '"')
	b = t.appendText(b) // base64 needs no escaping
	return append(b, '"')
}

// String returns REDACTED.
func (Token) String() string { return Redacted }

// GoString returns REDACTED; %#v would otherwise print the bytes.
func (Token) GoString() string { return Redacted }

// Format writes REDACTED for every verb, as [Secret.Format] does.
func (Token) Format(f fmt.State, _ rune) { io.WriteString(f, Redacted) }

// LogValue returns REDACTED for log/slog.
func (Token) LogValue() slog.Value { return slog.StringValue(Redacted) }

// Packed is Credentials in the fewest bytes a cache can keep them in: the
// key id, the secret and the token's bytes end to end in one string, and
// the two times as Unix readings. [Packed.Credentials] gives the value
// back without allocating. ServerTime is not kept.
type Packed struct {
	// data points at the AccessKeyId, the AccessKeySecret and the Token's
	// bytes, n bytes end to end; id and secret are the lengths of the first
	// two. A pointer rather than a string: fmt cannot call a method of a
	// field it reaches without exporting, and prints such a string as it
	// is, so a State or any value holding a Packed would print the secret;
	// a pointer prints as an address.
	//
	// The lengths are 32 bits: what reaches a cache is bounded far below
	// (internal/sts refuses a field over 64 KiB, the token store's file is
	// at most 64 MiB).
	data          *byte
	n, id, secret uint32
	exp, upd      unixTime
}

// unixTime is a wall-clock time without location or monotonic reading.
type unixTime struct {
	sec int64
	ns  int32
}

func toUnix(t time.Time) unixTime { return unixTime{t.Unix(), int32(t.Nanosecond())} }

func (u unixTime) time() time.Time { return time.Unix(u.sec, int64(u.ns)).UTC() }

// Pack returns c packed, in one new allocation.
func (c Credentials) Pack() Packed {
	s := c.AccessKeyID + string(c.AccessKeySecret) + c.SecurityToken.v
	return Packed{data: unsafe.StringData(s), n: uint32(len(s)),
		id: uint32(len(c.AccessKeyID)), secret: uint32(len(c.AccessKeySecret)),
		exp: toUnix(c.Expiration), upd: toUnix(c.LastUpdated)}
}

// Credentials returns the credentials p holds, in UTC.
func (p Packed) Credentials() Credentials {
	s := unsafe.String(p.data, p.n) // p.data is a string's, never written
	i, j := p.id, p.id+p.secret
	return Credentials{AccessKeyID: s[:i], AccessKeySecret: Secret(s[i:j]), SecurityToken: Token{s[j:]},
		Expiration: p.exp.time(), LastUpdated: p.upd.time()}
}

// Expiration returns the Expiration of the credentials p holds.
func (p Packed) Expiration() time.Time { return p.exp.time() }
