package twiml

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's request signature is HMAC-SHA1; apps validate exactly that.
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// webhook requests TwiML documents from the application.
type webhook struct {
	client    *http.Client
	authToken string // signs requests; "" sends no signature
	userAgent string
}

// fetch requests u with params (form body for POST, query for GET) and
// returns the document. Anything but a 2xx with a body of at most
// MaxDocumentSize is an error.
func (w *webhook) fetch(ctx context.Context, method, u string, params url.Values) ([]byte, error) {
	var body io.Reader
	target := u
	if method == "GET" {
		pu, err := url.Parse(u)
		if err != nil {
			return nil, err
		}
		q := pu.Query()
		for k, vs := range params {
			q[k] = append(q[k], vs...)
		}
		pu.RawQuery = q.Encode()
		target = pu.String()
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if method != "GET" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/xml, text/xml")
	req.Header.Set("User-Agent", w.userAgent)
	if w.authToken != "" {
		signed := params
		if method == "GET" {
			signed = nil
		}
		req.Header.Set("X-Twilio-Signature", Signature(w.authToken, target, signed))
	}
	res, err := w.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Body.Close() }()
	doc, err := io.ReadAll(io.LimitReader(res.Body, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", u, err)
	}
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: HTTP %s", method, u, res.Status)
	}
	if len(doc) > MaxDocumentSize {
		return nil, fmt.Errorf("%s %s: document over %d bytes", method, u, MaxDocumentSize)
	}
	return bytes.TrimSpace(doc), nil
}

// Signature computes X-Twilio-Signature for a request to u with POST
// parameters params (nil for GET, whose parameters are in u): the
// base64 HMAC-SHA1, keyed with the auth token, of u followed by each
// parameter name and value, names in sorted order. Twilio's helper
// libraries check it with the same rule, so existing applications'
// validation passes.
func Signature(authToken, u string, params url.Values) string {
	var b strings.Builder
	b.WriteString(u)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range params[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// resolve makes ref absolute against the URL of the document naming it.
func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).String(), nil
}

// defaultTimeout bounds one webhook request, as Twilio's 15 s does.
const defaultTimeout = 15 * time.Second
