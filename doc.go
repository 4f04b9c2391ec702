// Package ossd holds the domain types shared by every part of the daemon:
// the parameters of an AssumeRole call ([Params]) and the cache key derived
// from them ([Key]), the temporary credentials STS returns ([Credentials]),
// the [Secret] string type that never renders its value in logs, and the
// [Fetcher] interface the refresher uses to reach STS.
//
// Imports flow cmd → socket/refresher → cache → ossd, never upward.
package ossd
