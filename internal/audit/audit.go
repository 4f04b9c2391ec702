package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/safepath"
)

// Event kinds.
const (
	KindIssue   = "issue"   // credentials handed to a caller
	KindDeny    = "deny"    // a caller refused a role
	KindPresign = "presign" // a signed URL issued or refused
	KindExec    = "exec"    // an exec-scoped credentials URI registered for a command (ossd exec), or refused
	KindRevoke  = "revoke"  // an exec-scoped credentials URI revoked: the command ended or the daemon stopped
	KindLimit   = "limit"   // a request refused because its caller was over the rate
)

// ResultOK is the Result of an event that succeeded; any other Result is
// the stable error code of the refusal.
const ResultOK = "ok"

// maxField bounds each string field in a line; a refused request may carry
// a key of any length.
const maxField = 1024

// Event is one audited action. It deliberately has no field that could hold
// a credential.
type Event struct {
	Kind        string
	Role        string
	Session     string // the session suffix the caller asked for, if any
	SessionName string // the RoleSessionName of the token issued or signed with: what ActionTrail records
	AccessKeyID string // of that token; an identifier, safe to record
	Caller      peer.Identity
	Path        string // the listener: "socket", "tcp 127.0.0.1:8100", ...
	Method      string
	Bucket      string
	Key         string
	Expires     time.Duration // validity asked for
	Expiry      time.Time     // when the issued URL stops working; zero if none was issued
	Result      string        // ResultOK or an error code
	ExecPID     int32         // the command an exec URI was registered for, as its registrant reported it

	// Count, when positive, makes the line a summary: it stands for Count
	// refusals like this one (same caller uid, role, result and path) since
	// Since, of which only the first was written on its own line. A summary
	// names only the caller's uid: the processes behind the count vary.
	Count int
	Since time.Time
}

// line is the JSON form of an Event.
type line struct {
	Time        string `json:"time"`
	Kind        string `json:"event"`
	Role        string `json:"role"`
	Session     string `json:"session,omitempty"`
	SessionName string `json:"session_name,omitempty"`
	AccessKeyID string `json:"access_key_id,omitempty"`
	Path        string `json:"path,omitempty"`
	Caller      any    `json:"caller"` // caller, or uidOnly on a summary
	Method      string `json:"method,omitempty"`
	Bucket      string `json:"bucket,omitempty"`
	Key         string `json:"key,omitempty"`
	Expires     int64  `json:"expires_seconds,omitempty"`
	Expiry      string `json:"expiry,omitempty"`
	Result      string `json:"result"`
	ExecPID     int32  `json:"exec_pid,omitempty"`
	Count       int    `json:"count,omitempty"`
	Since       string `json:"since,omitempty"`
}

// Logger appends events to a writer, and keeps count of the lines it could
// not write (see [Logger.Gate] and [Logger.State]).
type Logger struct {
	clock  clock.Clock
	policy Policy     // set before use
	mu     sync.Mutex // guards w, buf and torn
	w      io.Writer
	buf    []byte
	torn   bool // the last write stopped mid-line: start the next on a new line

	failing  atomic.Bool  // the last write failed
	failures atomic.Int64 // lines not written
}

// New returns a Logger writing to w, stamping events with clk (nil = real).
func New(w io.Writer, clk clock.Clock) *Logger {
	return &Logger{clock: clock.Or(clk), w: w}
}

// Open returns a Logger appending to the file at path, created 0600 if
// missing, or writing to stderr when path is empty. Close the returned
// closer when done; for stderr it does nothing.
//
// The path must be absolute, and its directories must pass the [safepath]
// rule; the file is opened with O_NOFOLLOW and refused unless it is a
// regular file owned by this process's uid with no permission bits for
// group or others. So another user can neither point the log at a file of
// his choosing nor read it.
func Open(path string, stderr io.Writer, clk clock.Clock) (*Logger, io.Closer, error) {
	if path == "" {
		return New(stderr, clk), nopCloser{}, nil
	}
	f, err := openFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	return New(f, clk), f, nil
}

// openFile opens path for appending under the safepath rule.
func openFile(path string) (*os.File, error) {
	if !filepath.IsAbs(path) {
		return nil, errors.New("not an absolute path")
	}
	d, err := safepath.Default().OpenDir(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer d.Close() // O_PATH: nothing to flush
	return d.OpenFile(filepath.Base(path), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// Log writes e as one line. An error, which wraps [ErrFailed], means the
// event was not recorded; an action that must not go unrecorded is written
// with [Logger.Gate] instead.
func (l *Logger) Log(e Event) error {
	ln := line{
		Time: l.clock.Now().UTC().Format(timeLayout), Kind: e.Kind,
		Role: clip(e.Role), Session: clip(e.Session), SessionName: clip(e.SessionName), AccessKeyID: clip(e.AccessKeyID), Caller: callerOf(e.Caller), Path: clip(e.Path),
		Method: clip(e.Method), Bucket: clip(e.Bucket), Key: clip(e.Key),
		Expires: int64(e.Expires / time.Second), Result: clip(e.Result), ExecPID: e.ExecPID,
	}
	if !e.Expiry.IsZero() {
		ln.Expiry = e.Expiry.UTC().Format(ossd.TimeLayout)
	}
	if e.Count > 0 {
		ln.Caller, ln.Count, ln.Since = uidOnly{Known: e.Caller.Known, UID: e.Caller.UID}, e.Count, e.Since.UTC().Format(timeLayout)
	}
	b, err := json.Marshal(ln)
	if err != nil {
		return l.failed(fmt.Errorf("encode audit event: %w", err))
	}
	if err := l.write(b); err != nil {
		return l.failed(err)
	}
	l.recovered()
	return nil
}

// timeLayout is the time of a line: UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

// write appends b and a newline in one Write call. After a write that
// stopped part-way (a disk that filled up mid-line), the next line starts
// on a line of its own, so that only the torn line is lost.
func (l *Logger) write(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = l.buf[:0]
	if l.torn {
		l.buf = append(l.buf, '\n')
	}
	l.buf = append(append(l.buf, b...), '\n')
	n, err := l.w.Write(l.buf)
	if err != nil {
		l.torn = l.torn && n == 0 || n > 0 && n < len(l.buf)
		return fmt.Errorf("write audit log: %w", err)
	}
	l.torn = false
	return nil
}

// caller is the JSON form of a peer.Identity. Exe is the path the kernel
// reports, which in another mount namespace can name any file; ExeFile
// ("major:minor:inode") is the file itself, and NS says whether the caller
// shares ossd's mount and user namespaces ("own") or which differ (absent
// when they could not be read).
type caller struct {
	Known   bool   `json:"identified"`
	UID     uint32 `json:"uid"`
	GID     uint32 `json:"gid"`
	PID     int32  `json:"pid"`
	Exe     string `json:"exe,omitempty"`
	ExeFile string `json:"exe_file,omitempty"`
	Cgroup  string `json:"cgroup,omitempty"`
	NS      string `json:"ns,omitempty"`
}

// uidOnly is the caller of a summary line.
type uidOnly struct {
	Known bool   `json:"identified"`
	UID   uint32 `json:"uid"`
}

func callerOf(id peer.Identity) caller {
	if !id.Known {
		return caller{}
	}
	return caller{Known: true, UID: id.UID, GID: id.GID, PID: id.PID, Exe: clip(id.Exe), ExeFile: id.ExeFile.String(), Cgroup: clip(id.Cgroup), NS: id.NS}
}

// clip cuts s to maxField bytes on a rune boundary, marking the cut.
func clip(s string) string {
	if len(s) <= maxField {
		return s
	}
	cut := maxField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
