package bench

import (
	"bytes"
	"errors"
	"fmt"
)

// Target is one endpoint to drive: where each client connects and the
// operation it repeats.
type Target struct {
	Name    string // "socket", "metadata", "metadata-token", "uri"
	Network string // "unix" or "tcp"
	Addr    string // socket path or host:port
	Op      Op
}

// At returns t with its address replaced: the same operation against
// another server (the limit) over the same transport.
func (t Target) At(network, addr string) Target {
	t.Network, t.Addr = network, addr
	return t
}

// Op is one operation a client repeats on its connection: one or more
// requests. Implementations must be safe for concurrent use by clients on
// different connections.
type Op interface {
	Do(c *Conn) error
}

// credentialsEnd is how every SPEC §1 body ends ([ossd.Credentials.AppendJSON]).
var credentialsEnd = []byte(`"Code":"Success"}`)

// errNotCredentials is returned when a 200 answer is not a credentials body.
var errNotCredentials = errors.New("answer is not a credentials body")

// Get is an Op of one GET that must answer 200 with a credentials body.
type Get struct{ req *Request }

// NewGet returns a Get of path, sending host as the Host header. Errors
// name the path as name: pass a placeholder for a secret path.
func NewGet(host, path, name string) Get {
	r := NewRequest("GET", host, path)
	r.Name = name
	return Get{r}
}

// Do sends the GET and checks the answer.
func (g Get) Do(c *Conn) error {
	body, err := c.Do(g.req, nil)
	if err != nil {
		return err
	}
	return checkCredentials(body)
}

func checkCredentials(body []byte) error {
	if !bytes.HasSuffix(body, credentialsEnd) {
		return fmt.Errorf("%w (%d bytes)", errNotCredentials, len(body))
	}
	return nil
}

// Metadata token headers, as credentials-go sends them (SPEC §2).
const (
	tokenTTLHeader = "X-aliyun-ecs-metadata-token-ttl-seconds"
	tokenHeader    = "X-aliyun-ecs-metadata-token"
)

// TokenGet is the two requests credentials-go makes for every refresh from
// the metadata service: PUT a token, then GET the role's credentials with
// it.
type TokenGet struct{ put, get *Request }

// NewTokenGet returns a TokenGet: PUT tokenPath, then GET credsPath.
func NewTokenGet(host, tokenPath, credsPath string) TokenGet {
	return TokenGet{
		put: NewRequest("PUT", host, tokenPath, tokenTTLHeader, "21600"),
		get: NewRequest("GET", host, credsPath),
	}
}

// Do sends the PUT and the GET and checks the answers.
func (o TokenGet) Do(c *Conn) error {
	tok, err := c.Do(o.put, nil)
	if err != nil {
		return err
	}
	c.extra = append(append(append(c.extra[:0], tokenHeader+": "...), tok...), "\r\n"...)
	body, err := c.Do(o.get, c.extra)
	if err != nil {
		return err
	}
	return checkCredentials(body)
}
