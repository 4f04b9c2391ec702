package tokenstore

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/ossd/ossd"
)

// maxSkipLines bounds the log lines naming kept tokens that are not used;
// the rest are counted in the summary line.
const maxSkipLines = 20

// Load reads the state file and hands each kept token to r whose key
// belongs to one of roles (the configured roles' parameters) or to an
// on-demand session of one, and whose STS fingerprint matches the one in
// force. It returns how many r installed. A file that cannot be trusted or
// parsed is ignored whole, with a warning naming the reason; each token
// not used is logged with its reason. Call it once, before the first
// fetch.
func (s *Store) Load(roles []ossd.Params, r Restorer) int {
	entries, err := s.read()
	if errors.Is(err, fs.ErrNotExist) {
		s.log.Info("no kept tokens", "file", s.path)
		return 0
	}
	if err != nil {
		s.log.Warn("ignoring the token file: no kept token is used", "file", s.path, "err", err)
		return 0
	}
	m := newMatcher(roles)
	restored, sessions, skipped := 0, 0, 0
	for _, e := range entries {
		p, pinned, reason := s.admit(m, e, sessions)
		if reason == "" {
			if err := r.Restore(p, e.creds(), pinned); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			if skipped++; skipped <= maxSkipLines {
				s.log.Info("kept token not used", "role", e.RoleARN, "session", e.SessionName, "reason", reason)
			}
			continue
		}
		restored++
		if !pinned {
			sessions++
		}
		s.mu.Lock()
		s.issuedBy[e.AccessKeyID] = e.STS
		s.mu.Unlock()
	}
	s.log.Info("kept tokens loaded", "file", s.path, "restored", restored, "not_used", skipped)
	return restored
}

// read checks the directory and the file and parses it.
func (s *Store) read() ([]entry, error) {
	d, err := s.openDir()
	if err != nil {
		return nil, err
	}
	defer d.Close() // O_PATH: nothing to flush
	data, err := readPrivate(d, FileName, MaxFileSize)
	if err != nil {
		return nil, err
	}
	return decode(data)
}

// admit matches e to the config and returns its parameters, or why it is
// not used. sessions is how many on-demand sessions are restored so far.
func (s *Store) admit(m matcher, e entry, sessions int) (p ossd.Params, pinned bool, reason string) {
	p, pinned, ok := m.match(e.key())
	switch {
	case !ok:
		return p, false, "matches no configured role: its role, session name, policy, duration, external id or source role changed"
	case e.STS != s.o.Fingerprint:
		return p, false, "issued through another STS endpoint, region or source credential"
	case !pinned && sessions >= s.o.MaxSessions:
		return p, false, "more kept on-demand sessions than server.max_sessions"
	}
	return p, pinned, ""
}

// matcher finds the configured role, or the on-demand session of one, that
// a kept key belongs to.
type matcher struct {
	pinned   map[ossd.Key]ossd.Params
	sessions map[ossd.Key][]ossd.Params // by key without the session name
}

func newMatcher(roles []ossd.Params) matcher {
	m := matcher{pinned: make(map[ossd.Key]ossd.Params, len(roles)), sessions: make(map[ossd.Key][]ossd.Params)}
	for _, p := range roles {
		k := p.Key()
		m.pinned[k] = p
		k.SessionName = ""
		m.sessions[k] = append(m.sessions[k], p)
	}
	return m
}

// match returns the parameters of k and whether k is a configured role
// (pinned) rather than an on-demand session, whose name is the role's
// session name, "-" and a suffix.
func (m matcher) match(k ossd.Key) (ossd.Params, bool, bool) {
	if p, ok := m.pinned[k]; ok {
		return p, true, true
	}
	base := k
	base.SessionName = ""
	for _, p := range m.sessions[base] {
		if suffix, ok := strings.CutPrefix(k.SessionName, p.SessionName+"-"); ok && suffix != "" {
			p.SessionName = k.SessionName
			return p, false, true
		}
	}
	return ossd.Params{}, false, false
}
