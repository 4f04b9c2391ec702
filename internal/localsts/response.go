package localsts

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// hostID is the HostId real STS puts in error bodies.
const hostID = "sts.aliyuncs.com"

// apiError is an STS error answer.
type apiError struct {
	status    int
	code, msg string
}

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

type errorBody struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}

type successBody struct {
	RequestID       string `json:"RequestId"`
	AssumedRoleUser struct {
		Arn           string `json:"Arn"`
		AssumedRoleID string `json:"AssumedRoleId"`
	} `json:"AssumedRoleUser"`
	Credentials struct {
		AccessKeyID     string `json:"AccessKeyId"`
		AccessKeySecret string `json:"AccessKeySecret"`
		SecurityToken   string `json:"SecurityToken"`
		Expiration      string `json:"Expiration"`
	} `json:"Credentials"`
}

func writeError(w http.ResponseWriter, e apiError) {
	writeJSON(w, e.status, errorBody{
		RequestID: requestID(),
		HostID:    hostID,
		Code:      e.code,
		Message:   e.msg,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + e.code,
	})
}

func writeSuccess(w http.ResponseWriter, r role, tok Issued) {
	var b successBody
	b.RequestID = requestID()
	b.AssumedRoleUser.Arn = "acs:ram::" + r.account + ":role/" + r.name + "/" + tok.SessionName
	b.AssumedRoleUser.AssumedRoleID = r.roleID + ":" + tok.SessionName
	b.Credentials.AccessKeyID = tok.AccessKeyID
	b.Credentials.AccessKeySecret = tok.AccessKeySecret
	b.Credentials.SecurityToken = tok.SecurityToken
	b.Credentials.Expiration = tok.Expiration.UTC().Format(timeLayout)
	writeJSON(w, http.StatusOK, b)
}

// writeMalformed answers 200 with JSON cut off in the middle.
func writeMalformed(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(http.StatusOK)
	// A failed write means the client left; there is nobody to tell.
	_, _ = fmt.Fprintf(w, `{"RequestId":%q,"Credentials":{"AccessKeyId":"STS.`, requestID())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic("localsts: marshal answer: " + err.Error()) // only strings inside
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the client left
}

// requestID returns an upper-case UUID like those real STS sends.
func requestID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
}

// randomFrom returns n characters drawn uniformly from alphabet (at most 256
// characters long).
func randomFrom(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the draw
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		rand.Read(buf)
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}

func randomAlnum(n int) string {
	return randomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", n)
}

func randomDigits(n int) string { return randomFrom("0123456789", n) }

// randomToken returns a SecurityToken shaped like real ones: "CAIS" and
// about 1200 characters of base64, so it holds '+', '/' and often '='.
func randomToken() string {
	b := make([]byte, 900+int(randomDigits(1)[0]-'0')) // vary the length a little
	rand.Read(b)
	return "CAIS" + base64.StdEncoding.EncodeToString(b)
}
