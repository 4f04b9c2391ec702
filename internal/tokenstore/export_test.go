package tokenstore

// AssumeInMemory makes a store opened with o take its directory for a
// tmpfs, so tests can use t.TempDir. It exists only in this package's
// tests: the daemon has no way to skip the check.
func AssumeInMemory(o Options) Options {
	o.inMemory = func(string) (bool, error) { return true, nil }
	return o
}
