// Package localsts is a local, faithful STS (2015-04-01) AssumeRole server,
// for tests and for the daemon's --dev mode. The unmodified
// alibaba-cloud-sdk-go services/sts client talks to it with
// client.Domain = "127.0.0.1:PORT" and request.Scheme = "http" (clear
// HTTP_PROXY or call client.SetNoProxy: the SDK sends even loopback traffic
// through an environment proxy).
//
// # Protocol
//
// A request is POST (or GET) on "/". Its parameters are the query string
// merged with an application/x-www-form-urlencoded body of at most 64 KiB (the
// SDK's own credential providers put business parameters in the body); a
// parameter may appear only once. Requests are checked in this order, and the
// first failure is answered:
//
//  1. method, path, query and body syntax, duplicates
//  2. Action, Version, AccessKeyId, Signature, SignatureMethod,
//     SignatureNonce, SignatureVersion, Timestamp present and well formed;
//     Format, if present, is JSON
//  3. AccessKeyId known: added with AddAccessKey, or an STS. key this server
//     issued (role chaining)
//  4. Timestamp within ±15 min of the gateway clock (GatewayClock + SetSkew)
//  5. SignatureNonce not seen in the last 31 min (only nonces of correctly
//     signed requests are remembered, so memory is bounded by the request
//     rate)
//  6. Signature V1 (HMAC-SHA1 over METHOD&%2F&encoded sorted parameters,
//     key secret+"&"), compared in constant time
//  7. for an STS. key: SecurityToken present, equal to the one issued with
//     that AccessKeyId (not another issued token), and unexpired by the
//     gateway clock
//  8. RoleArn, RoleSessionName, Policy, ExternalId syntax; role added with
//     AddRole; DurationSeconds (default 3600) within 900..role maximum, and
//     at most 3600 for a call signed by an STS. key (a chained session)
//
// Once steps 3-7 pass, the call's AccessKeyId is recorded as its
// Call.SignedBy, and a token issued by it carries it as Issued.SignedBy, so
// a test can tell which credential signed a chained call.
//
// Empty optional parameters count as absent. A success is 200 with the real
// body shape: RequestId, AssumedRoleUser{Arn, AssumedRoleId},
// Credentials{AccessKeyId "STS.…", AccessKeySecret, SecurityToken "CAIS…",
// Expiration}. Expiration is Clock.Now() plus the duration (capped by
// SetTokenLifetime), in UTC whole seconds. Every secret comes from
// crypto/rand.
//
// # Error codes
//
// Errors are JSON {RequestId, HostId, Code, Message, Recommend}, all strings,
// with Content-Type application/json:
//
//	400 UnsupportedHTTPMethod             not GET or POST
//	400 InvalidAction.NotFound            path not "/", or Action not AssumeRole
//	400 InvalidParameter                  bad query/body syntax, body over 64 KiB, repeated parameter
//	400 Missing<Name>                     a required parameter is absent, e.g. MissingSignatureNonce,
//	                                      MissingRoleArn, MissingRoleSessionName, MissingSecurityToken
//	400 InvalidVersion                    Version not 2015-04-01
//	400 InvalidParameter.Format           Format not JSON
//	400 InvalidParameter.SignatureMethod  not HMAC-SHA1
//	400 InvalidParameter.SignatureVersion not 1.0
//	400 InvalidTimeStamp.Format           Timestamp not 2006-01-02T15:04:05Z
//	404 InvalidAccessKeyId.NotFound       unknown AccessKeyId
//	400 InvalidTimeStamp.Expired          Timestamp more than 15 min from gateway time
//	400 SignatureNonceUsed                nonce reused
//	400 SignatureDoesNotMatch             wrong signature; the message ends with
//	                                      "server string to sign is:<string>", as the real
//	                                      one does (the SDK compares it with its own)
//	400 InvalidSecurityToken.MismatchWithAccessKey, InvalidSecurityToken.Expired
//	400 InvalidParameter.RoleArn          not acs:ram::<digits>:role/<name>
//	400 InvalidParameter.RoleSessionName  not 2-64 of [A-Za-z0-9.@_-]
//	400 InvalidParameter.PolicyGrammar    not 1-2048 chars of JSON object with "Version":"1"
//	                                      and a non-empty "Statement" array of objects
//	400 InvalidParameter.ExternalId       not 2-1224 of [A-Za-z0-9_+=,.@:/-]
//	404 EntityNotExist.Role               role not added
//	400 InvalidParameter.DurationSeconds  not an integer in 900..role maximum
//
// Faults (FailNext, SetFault) come before every check and answer with their
// Code; its status is 400 for Throttling, Throttling.User ("Request was denied
// due to user flow control.") and Throttling.Api, 403 for NoPermission, 500
// for InternalError, 503 for ServiceUnavailable and 400 for any other code,
// unless Fault.Status says otherwise.
//
// # Concurrency and lifecycle
//
// A Server is safe for concurrent use: requests, configuration (AddAccessKey,
// AddRole, faults, skew, lifetime) and inspection (Calls, CallLog, Issued)
// may interleave freely. New needs no Close; a Server that was Started must be
// Closed to release its listener. The Server keeps every issued credential
// and the last 10000 calls in memory, which suits tests and development, not
// long heavy use.
package localsts
