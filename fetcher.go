package ossd

import "context"

// Fetcher obtains fresh credentials for p, normally by calling STS
// AssumeRole. Implementations must be safe for concurrent use and must not
// put secrets in the errors they return.
type Fetcher interface {
	Fetch(ctx context.Context, p Params) (Credentials, error)
}

// FetcherFunc adapts a function to [Fetcher].
type FetcherFunc func(ctx context.Context, p Params) (Credentials, error)

// Fetch calls f.
func (f FetcherFunc) Fetch(ctx context.Context, p Params) (Credentials, error) { return f(ctx, p) }
