// Package digest is HTTP Digest authentication for SIP (RFC 3261 s.22)
// with the RFC 7616 and RFC 8760 algorithms (MD5, SHA-256, SHA-512-256).
//
// The server side is what nothing else in the dependency tree provides:
// [Server] issues challenges whose nonces are bound to it and expire, and
// checks Authorization or Proxy-Authorization values against a caller's
// user table, refusing replayed nonce counts. Unknown users and wrong
// passwords produce the same [Result] after the same work, so a caller
// that builds its response from the Result alone cannot leak which user
// names exist.
//
// The client side is a thin layer over github.com/icholy/digest, which
// parses challenges and computes responses: [Choose] picks the strongest
// of several offered challenges, and [Client] reuses a nonce with an
// increasing nonce count and reports stale=true so a registration loop
// can retry without counting a failure.
//
// The package knows nothing about SIP messages: callers pass header
// values in and get header values out, and decide the status code
// (401 with WWW-Authenticate, or 407 with Proxy-Authenticate) themselves.
// qop=auth-int and the -sess algorithm variants are not supported.
package digest
