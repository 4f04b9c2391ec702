package service

import "context"

// Prepare authorises the caller in ctx for the role called name and makes
// sure the session (as in [Service.Credentials]) holds a token, without
// handing one out, so nothing is audited: the caller audits what it does
// with the answer. ossd exec registers a URI this way, so that the command's
// first request is served from the cache and a refusal comes before the
// command starts.
func (s *Service) Prepare(ctx context.Context, name, session string) error {
	_, _, err := s.credentials(ctx, name, session)
	return err
}
