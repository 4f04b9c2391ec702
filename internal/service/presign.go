package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/internal/sessionname"
)

// PresignSlack is the margin of the longer sessions CredentialsFor fetches:
// a session serves the requests of one PresignSlack-long window of time and
// is PresignSlack longer than the validity asked for, so whatever it hands
// out within the window has that validity left. config.PresignSlack must
// equal it.
const PresignSlack = 5 * time.Minute

// ErrTooLong is returned when no session the role may have covers the
// validity asked for. Errors wrapping it say what the longest possible
// validity is; see [LongestValidity].
var ErrTooLong = errors.New("validity longer than any session the role may have")

// LongestValidity returns the longest validity CredentialsFor can guarantee
// with sessions of at most maxSession.
func LongestValidity(maxSession time.Duration) time.Duration {
	return max(maxSession-PresignSlack, 0).Truncate(time.Second)
}

// CredentialsFor returns credentials for the role called name, if the caller
// in ctx may have it (see [Service.Authorize]), that stay valid for at least
// minValidity from now, and the STS session name they belong to. Credentials for URLs signed on a caller's behalf use it: a signed URL
// dies with the token it was signed with.
//
// The role's cached token is used when it lasts long enough. Otherwise
// CredentialsFor asks for an on-demand session of the role with a longer
// duration, at most maxSession, which the refresher caches like any other.
// Such a session is named after the role's session name and the current
// PresignSlack-long window of time, so that it is shared by the requests of
// one window and never served after it; it lasts PresignSlack longer than
// asked. When even maxSession cannot cover minValidity, the error wraps
// [ErrTooLong] and names [LongestValidity].
func (s *Service) CredentialsFor(ctx context.Context, name string, minValidity, maxSession time.Duration) (ossd.Credentials, string, error) {
	r, err := s.Authorize(ctx, name)
	if err != nil {
		return ossd.Credentials{}, "", err
	}
	base, key := r.Params, r.key
	if r.SessionPer.PerCaller() { // sign with the caller's own session
		if base, key, err = s.callerSession(ctx, r, ""); err != nil {
			return ossd.Credentials{}, "", err
		}
	}
	c, err := s.get(ctx, base, key)
	if err != nil {
		return ossd.Credentials{}, "", err
	}
	if c.Expiration.Sub(s.clock.Now()) >= minValidity {
		return c, base.SessionName, nil
	}
	if longest := LongestValidity(maxSession); minValidity > longest {
		return ossd.Credentials{}, "", fmt.Errorf("%w: role %q may have sessions of at most %s, so the longest possible validity is %s",
			ErrTooLong, name, maxSession, longest)
	}
	p := s.longParams(base, minValidity, maxSession)
	c, err = s.ref.Get(ctx, p)
	if err != nil {
		return ossd.Credentials{}, "", err
	}
	if left := c.Expiration.Sub(s.clock.Now()); left < minValidity {
		// Only a skewed or misbehaving STS gets here.
		return ossd.Credentials{}, "", fmt.Errorf("%w for %s: STS issued a session with %s left, want %s",
			ErrShortSession, r.Params.RoleARN, left.Round(time.Second), minValidity)
	}
	return c, p.SessionName, nil
}

// CheckAccess reports, as [Service.Authorize] does, whether the caller in
// ctx may have the role called name, without fetching anything.
func (s *Service) CheckAccess(ctx context.Context, name string) error {
	_, err := s.Authorize(ctx, name)
	return err
}

// ErrShortSession is returned when STS issued a session shorter than asked.
var ErrShortSession = errors.New("session shorter than requested")

// longParams returns the parameters of the longer session of p that covers
// minValidity: the duration is minValidity rounded up to the coarsest step
// (1h, 15m, 1m, 1s) that still fits maxSession, plus PresignSlack, so that
// requests for similar validities share one session; never under
// twice the floor (the refresher warns about shorter tokens) nor 15 minutes
// (the STS minimum) if maxSession allows. The session name carries the
// current window.
func (s *Service) longParams(p ossd.Params, minValidity, maxSession time.Duration) ossd.Params {
	d := maxSession
	for _, step := range [...]time.Duration{time.Hour, 15 * time.Minute, time.Minute, time.Second} {
		if up := roundUp(minValidity, step) + PresignSlack; up <= maxSession {
			d = up
			break
		}
	}
	d = max(d, min(2*s.ref.Floor(), maxSession), min(15*time.Minute, maxSession))
	window := s.clock.Now().Unix() / int64(PresignSlack/time.Second)
	p.SessionName = windowSession(p.SessionName, window)
	p.Duration = d
	return p
}

// windowSession returns base with "-p" and the window number appended; a
// name too long for STS is cut and ends in a hash of both
// ([sessionname.Name]), so that two callers' sessions of a per-caller role
// stay apart even where their names are cut.
func windowSession(base string, window int64) string {
	return sessionname.Name(base, "p"+strconv.FormatInt(window, 36))
}

func roundUp(d, step time.Duration) time.Duration {
	if r := d % step; r != 0 {
		return d + step - r
	}
	return d
}
