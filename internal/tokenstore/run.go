package tokenstore

import (
	"context"
	"time"
)

const (
	// SaveEvery is the shortest time between two saves by Run: a crash
	// loses at most the tokens fetched in this span, which a restart then
	// fetches again.
	SaveEvery = 10 * time.Second
	// saveDelay is how long Run waits after the first fetch of a quiet
	// spell: the refresher records a token just after the fetch returns,
	// and the fetches of a start-up or a renewal pass come together.
	saveDelay = time.Second
)

// Run saves after fetches (see Issued), at most once every SaveEvery,
// until ctx ends; it returns nil then. A failing save is logged, once per
// distinct error, and retried at the next fetch. The caller saves once
// more after the refresher has stopped.
func (s *Store) Run(ctx context.Context) error {
	var last time.Duration // monotonic time of the last save
	saved := false
	lastErr := ""
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		}
		wait := saveDelay
		if saved {
			wait = max(wait, last+SaveEvery-s.clock.Mono())
		}
		t := s.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
		// Fetches up to now are covered by this save; later ones kick again.
		select {
		case <-s.kick:
		default:
		}
		err := s.Save()
		last, saved = s.clock.Mono(), true
		switch {
		case err != nil && err.Error() != lastErr:
			s.log.Warn("saving kept tokens failed; will retry after the next fetch", "file", s.path, "err", err)
			lastErr = err.Error()
		case err == nil:
			lastErr = ""
		}
	}
}
