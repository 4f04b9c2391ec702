package localsts

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"
)

const (
	maxBody         = 64 << 10
	timestampWindow = 15 * time.Minute
	timeLayout      = "2006-01-02T15:04:05Z"
)

// ServeHTTP answers one AssumeRole request. The call is logged before the
// client can see the end of the answer (the response is flushed after
// ServeHTTP returns, and a reset comes after logging), so CallLog is current
// when the client's request returns.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := Call{At: s.beginCall()}
	// The Date header tells the time by this server's clock, as real STS's
	// does by its own, so that a test can set STS's clock apart from ours.
	w.Header().Set("Date", call.At.UTC().Format(http.TimeFormat))
	params, perr := readParams(w, r)
	call.Params = params
	if f, ok := s.nextFault(); ok {
		if status, code, done := applyFault(w, r, f); done {
			call.Status, call.Code = status, code
			s.endCall(call)
			if code == CodeReset {
				resetConn(w)
			}
			return
		}
	}
	ro, tok, e := s.assume(r.Method, params, perr, &call)
	if e != nil {
		writeError(w, *e)
		call.Status, call.Code = e.status, e.code
	} else {
		writeSuccess(w, ro, tok)
		call.Status = http.StatusOK
	}
	s.endCall(call)
}

// assume runs every check in order and issues a token. It records in call
// which AccessKeyId signed the request, once that is proven.
func (s *Server) assume(method string, p url.Values, perr *apiError, call *Call) (role, Issued, *apiError) {
	if perr != nil {
		return role{}, Issued{}, perr
	}
	ts, e := checkCommon(p)
	if e != nil {
		return role{}, Issued{}, e
	}
	caller, e := s.authenticate(method, p, ts)
	if e != nil {
		return role{}, Issued{}, e
	}
	call.SignedBy = p.Get("AccessKeyId")
	req, e := s.parseAssume(p, caller != nil)
	if e != nil {
		return role{}, Issued{}, e
	}
	return req.role, s.issue(req.role, req.session, req.duration, call.SignedBy), nil
}

// readParams merges the query string and a form body. Parameters given more
// than once, anywhere, are refused: their signature would be ambiguous.
func readParams(w http.ResponseWriter, r *http.Request) (url.Values, *apiError) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return url.Values{}, errorf(400, "UnsupportedHTTPMethod", "Specified http method %s is not supported.", r.Method)
	}
	if r.URL.Path != "/" {
		return url.Values{}, errorf(400, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return q, errorf(400, "InvalidParameter", "The query string is malformed.")
	}
	body, e := readForm(w, r)
	if e != nil {
		return q, e
	}
	for k, vs := range body {
		q[k] = append(q[k], vs...)
	}
	for k, vs := range q {
		if len(vs) > 1 {
			return q, errorf(400, "InvalidParameter", "The parameter %s is given more than once.", k)
		}
	}
	return q, nil
}

// readForm reads an x-www-form-urlencoded body of at most maxBody bytes;
// other bodies are ignored.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *apiError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, errorf(400, "InvalidParameter", "The request body is larger than %d bytes.", maxBody)
	case err != nil:
		return nil, errorf(400, "InvalidParameter", "The request body could not be read.")
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, errorf(400, "InvalidParameter", "The request body is malformed.")
	}
	return form, nil
}

// checkCommon checks the common parameters that need no state and returns
// the parsed Timestamp.
func checkCommon(p url.Values) (time.Time, *apiError) {
	for _, c := range []struct{ name, want, code string }{
		{"Action", "AssumeRole", "InvalidAction.NotFound"},
		{"Version", "2015-04-01", "InvalidVersion"},
		{"AccessKeyId", "", ""},
		{"Signature", "", ""},
		{"SignatureMethod", "HMAC-SHA1", "InvalidParameter.SignatureMethod"},
		{"SignatureNonce", "", ""},
		{"SignatureVersion", "1.0", "InvalidParameter.SignatureVersion"},
		{"Timestamp", "", ""},
	} {
		v := p.Get(c.name)
		if v == "" {
			return time.Time{}, errorf(400, "Missing"+c.name, "%s is mandatory for this action.", c.name)
		}
		if c.want != "" && v != c.want {
			return time.Time{}, errorf(400, c.code, "Specified parameter %s is not valid.", c.name)
		}
	}
	if f := p.Get("Format"); f != "" && f != "JSON" {
		return time.Time{}, errorf(400, "InvalidParameter.Format", "Specified parameter Format is not valid.")
	}
	ts, err := time.Parse(timeLayout, p.Get("Timestamp"))
	if err != nil {
		return time.Time{}, errorf(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
	}
	return ts, nil
}

// authenticate runs the gateway checks: key, timestamp window, nonce,
// signature, then the SecurityToken of an STS. key. It returns the token
// this server issued with the caller's STS. key, or nil for a source key.
func (s *Server) authenticate(method string, p url.Values, ts time.Time) (*Issued, *apiError) {
	id := p.Get("AccessKeyId")
	secret, tok, ok := s.lookupSecret(id)
	if !ok {
		return nil, errorf(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	now := s.gatewayNow()
	if d := now.Sub(ts); d > timestampWindow || d < -timestampWindow {
		return nil, errorf(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
	}
	nonce := p.Get("SignatureNonce")
	if s.nonceSeen(nonce) {
		return nil, errorf(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	sts := stringToSign(method, p)
	if !signatureMatches(p.Get("Signature"), sign(secret, sts)) {
		return nil, errorf(400, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:%s", sts)
	}
	if !s.addNonce(nonce, now) {
		return nil, errorf(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	if tok != nil {
		return tok, checkToken(tok, p.Get("SecurityToken"), now)
	}
	return nil, nil
}

// checkToken checks the SecurityToken sent with an STS. key.
func checkToken(tok *Issued, got string, now time.Time) *apiError {
	switch {
	case got == "":
		return errorf(400, "MissingSecurityToken", "SecurityToken is mandatory for this action.")
	case !signatureMatches(got, tok.SecurityToken):
		return errorf(400, "InvalidSecurityToken.MismatchWithAccessKey", "Specified SecurityToken mismatch with the AccessKey.")
	case !now.Before(tok.Expiration):
		return errorf(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
	}
	return nil
}

func (s *Server) nonceSeen(nonce string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nonces.has(nonce)
}

func (s *Server) addNonce(nonce string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nonces.add(nonce, now)
}
