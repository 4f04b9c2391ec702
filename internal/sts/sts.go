// Package sts calls STS AssumeRole through the official
// alibaba-cloud-sdk-go client and turns its answers into [ossd.Credentials]
// and [ossd.STSError]s that are safe to log.
//
// A Client is safe for concurrent use.
package sts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	stssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
)

// Options configure a Client.
type Options struct {
	Region   string
	Endpoint string // "https://sts.cn-hangzhou.aliyuncs.com" or "http://127.0.0.1:PORT"
	Timeout  time.Duration
	// Source is the SDK credentials provider that signs AssumeRole calls.
	Source credentials.CredentialsProvider
	Clock  clock.Clock // used for LastUpdated; nil = real
	// Conns is how many AssumeRole calls may be in flight at once; default 8.
	Conns int
}

// Client assumes roles. It implements [ossd.Fetcher].
//
// The SDK client is not safe for concurrent use (DoAction writes the
// client's timeout fields on every call), so Client keeps a pool of them and
// lends each to one call at a time.
type Client struct {
	pool    chan *conn
	scheme  string
	timeout time.Duration
	clock   clock.Clock
}

// New returns a Client for o.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sts endpoint %q: want http(s)://host[:port]", o.Endpoint)
	}
	if o.Conns <= 0 {
		o.Conns = 8
	}
	if o.Source != nil {
		o.Source = sourceProvider{o.Source}
	}
	c := &Client{pool: make(chan *conn, o.Conns), scheme: u.Scheme, timeout: o.Timeout, clock: clock.Or(o.Clock)}
	for range o.Conns {
		cn, err := newConn(o, u)
		if err != nil {
			return nil, err
		}
		c.pool <- cn
	}
	return c, nil
}

func newConn(o Options, u *url.URL) (*conn, error) {
	src := o.Source
	if src == nil {
		src = credentials.NewDefaultCredentialsProvider() // what the SDK does with none
	}
	signer := &signer{source: src}
	c, err := stssdk.NewClientWithOptions(o.Region, sdk.NewConfig(), signer)
	if err != nil {
		return nil, fmt.Errorf("sts client: %w", err)
	}
	c.Domain = u.Host
	if isLoopback(u.Hostname()) {
		// A local STS must never go through HTTP_PROXY from the environment.
		c.SetNoProxy(regexp.QuoteMeta(u.Host))
	}
	if o.Timeout > 0 {
		c.SetConnectTimeout(o.Timeout)
		c.SetReadTimeout(o.Timeout)
	}
	return &conn{sdk: c, signer: signer}, nil
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

// Fetch calls AssumeRole for p, signed with the source credential. The SDK
// takes no context, so the call runs in a goroutine and Fetch returns early
// when ctx ends; the SDK's own timeouts bound the abandoned call.
func (c *Client) Fetch(ctx context.Context, p ossd.Params) (ossd.Credentials, error) {
	return c.assume(ctx, nil, p)
}

// FetchWith calls AssumeRole for p signed with the STS credentials by,
// another role's session, instead of the source credential (role
// chaining). It ignores p.Via: by is what signs.
func (c *Client) FetchWith(ctx context.Context, by ossd.Credentials, p ossd.Params) (ossd.Credentials, error) {
	if by.AccessKeyID == "" || by.AccessKeySecret == "" || by.SecurityToken.IsZero() {
		return ossd.Credentials{}, &ossd.STSError{Code: "ossd.NoSigner", Message: "role chaining needs complete STS credentials to sign with"}
	}
	prov, err := credentials.NewStaticSTSCredentialsProviderBuilder().WithAccessKeyId(by.AccessKeyID).
		WithAccessKeySecret(by.AccessKeySecret.Reveal()).WithSecurityToken(by.SecurityToken.Reveal()).Build()
	if err != nil {
		return ossd.Credentials{}, &ossd.STSError{Code: "ossd.NoSigner", Message: "STS credentials to sign with were refused by the SDK"}
	}
	return c.assume(ctx, prov, p)
}

// assume makes one AssumeRole call, signed by the source credential or, if
// by is not nil, by it.
func (c *Client) assume(ctx context.Context, by credentials.CredentialsProvider, p ossd.Params) (ossd.Credentials, error) {
	req := stssdk.CreateAssumeRoleRequest()
	req.Scheme = c.scheme
	req.RoleArn = p.RoleARN
	req.RoleSessionName = p.SessionName
	req.DurationSeconds = requests.NewInteger(int(p.Duration / time.Second))
	req.Policy = p.Policy
	req.ExternalId = p.ExternalID
	type result struct {
		resp *stssdk.AssumeRoleResponse
		err  error
	}
	var cn *conn
	select {
	case cn = <-c.pool:
	case <-ctx.Done():
		return ossd.Credentials{}, &ossd.STSError{Code: "ossd.Timeout", Message: "no STS connection free in time"}
	}
	ch := make(chan result, 1)
	start := c.clock.Now()
	go func() {
		// The conn is this goroutine's until it goes back to the pool, so
		// setting its signer races with no other call.
		cn.signer.by = by
		resp, err := cn.sdk.AssumeRole(req)
		cn.signer.by = nil
		c.pool <- cn
		ch <- result{resp, err}
	}()
	select {
	case <-ctx.Done():
		return ossd.Credentials{}, &ossd.STSError{Code: "ossd.Timeout", Message: "AssumeRole did not answer in time"}
	case r := <-ch:
		if r.err != nil {
			return ossd.Credentials{}, Sanitize(r.err)
		}
		return toCredentials(r.resp, start, serverTime(r.resp.GetHttpHeaders()))
	}
}

// serverTime reads STS's clock from the Date header of its answer; zero if
// there is none or it does not parse.
func serverTime(h map[string][]string) time.Time {
	for k, v := range h {
		if strings.EqualFold(k, "Date") && len(v) > 0 {
			t, err := http.ParseTime(v[0])
			if err == nil {
				return t.UTC()
			}
		}
	}
	return time.Time{}
}

func toCredentials(resp *stssdk.AssumeRoleResponse, issued, server time.Time) (ossd.Credentials, error) {
	rc := resp.Credentials
	exp, err := time.Parse(ossd.TimeLayout, rc.Expiration)
	if err != nil || rc.AccessKeyId == "" || rc.AccessKeySecret == "" || rc.SecurityToken == "" {
		return ossd.Credentials{}, &ossd.STSError{Code: "ossd.BadResponse", Message: "AssumeRole answered 2xx without complete credentials"}
	}
	if len(rc.AccessKeyId) > maxField || len(rc.AccessKeySecret) > maxField || len(rc.SecurityToken) > maxField {
		return ossd.Credentials{}, &ossd.STSError{Code: "ossd.BadResponse",
			Message: fmt.Sprintf("AssumeRole answered with credentials larger than %d bytes a field (key id %d, secret %d, token %d bytes)",
				maxField, len(rc.AccessKeyId), len(rc.AccessKeySecret), len(rc.SecurityToken))}
	}
	id, secret, token := ossd.Pack(rc.AccessKeyId, rc.AccessKeySecret, rc.SecurityToken)
	// STS does not return the issue time; the moment the call started is the
	// closest lower bound, and never later than the real one.
	return ossd.Credentials{
		AccessKeyID:     id,
		AccessKeySecret: secret,
		SecurityToken:   token,
		Expiration:      exp.UTC(),
		LastUpdated:     issued.UTC().Truncate(time.Second),
		ServerTime:      server,
	}, nil
}

// maxField bounds each of the key id, secret and token of an answer. STS's
// tokens are about 1.2 KB; a cached session keeps the lengths in 32 bits,
// and a cache of 100,000 sessions should not be filled by a broken or
// hostile endpoint with megabytes each.
const maxField = 64 << 10

// maxMessage bounds how much of an STS message reaches logs and callers.
const maxMessage = 200

// Sanitize converts an SDK error into an *ossd.STSError that holds no
// secret. The SDK's transport errors embed the whole signed URL, AccessKeyId
// and SecurityToken included, so only the error's kind survives.
func Sanitize(err error) error {
	var se *SourceError
	if errors.As(err, &se) {
		return &ossd.STSError{Code: SourceErrorCode, Message: se.Error()}
	}
	switch e := err.(type) {
	case *sdkerrors.ServerError:
		return &ossd.STSError{Code: e.ErrorCode(), Message: serverMessage(e.Message()), RequestID: e.RequestId(), Status: e.HttpStatus()}
	case *sdkerrors.ClientError:
		return &ossd.STSError{Code: e.ErrorCode(), Message: clientMessage(e)}
	}
	return &ossd.STSError{Code: "ossd.TransportError", Message: "AssumeRole request failed: " + transportKind(err) + " (details withheld: they quote the signed URL)"}
}

func clientMessage(e *sdkerrors.ClientError) string {
	switch e.ErrorCode() {
	case sdkerrors.JsonUnmarshalErrorCode:
		return "STS answered with a body that is not valid JSON"
	case sdkerrors.TimeoutErrorCode:
		return "AssumeRole timed out"
	}
	if e.OriginError() != nil {
		return "transport error: " + transportKind(e.OriginError())
	}
	return truncate(e.Message())
}

// transportKind names a transport failure without quoting it.
func transportKind(err error) string {
	s := err.Error()
	for _, k := range []string{"connection reset", "connection refused", "EOF", "timeout", "no such host", "certificate", "tls"} {
		if strings.Contains(s, k) {
			return k
		}
	}
	return "network error"
}

// serverMessage keeps the human part of an STS error message. A
// SignatureDoesNotMatch message quotes the string to sign, which holds the
// caller's AccessKeyId and, for an STS source, its SecurityToken: drop it.
func serverMessage(m string) string {
	if i := strings.Index(strings.ToLower(m), "string to sign"); i >= 0 {
		m = m[:i]
		if j := strings.LastIndexAny(m, ".:"); j > 0 {
			m = m[:j+1]
		}
	}
	return truncate(m)
}

func truncate(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxMessage {
		s = s[:maxMessage] + "…"
	}
	return s
}

// DurationSeconds formats d for STS.
func DurationSeconds(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }
