// Package bench measures ossd under load against the practical limit: a
// bare net/http server serving the same bytes over the same transport.
//
// [Run] drives one [Target] with N concurrent clients, each on its own
// keep-alive connection, for a bounded time, and records the latency of
// every operation; [Summarize] turns the samples into throughput and exact
// percentiles. [Capture] records the responses a target gives to one
// operation as [Routes], and [Routes.ServeHTTP] replays exactly those
// bytes: the limit server. [Compare] pairs interleaved rounds of ossd and
// the limit, and [WriteTable] prints the ratios.
//
// Nothing here is safe for concurrent use unless its documentation says so;
// Run owns the goroutines it starts and returns after they end.
package bench
