package config

// LastEvent returns the base name of the last file event Run read, so that
// a test can tell when every event before one of its own has been seen.
func (w *Watcher) LastEvent() string {
	if p := w.last.Load(); p != nil {
		return *p
	}
	return ""
}
