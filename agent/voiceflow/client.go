package voiceflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// client speaks the Dialog Manager API.
type client struct {
	http    *http.Client
	runtime string // base URL, no trailing slash
	apiKey  string
	version string
	config  requestConfig
}

// requestConfig is the DM API's per-request "config".
type requestConfig struct {
	TTS          bool     `json:"tts"`
	StripSSML    bool     `json:"stripSSML"`
	StopAll      bool     `json:"stopAll"`
	ExcludeTypes []string `json:"excludeTypes,omitempty"`
}

// action is a request's action: launch, text, or a path's event type.
type action struct {
	Type    string `json:"type"`
	Payload any    `json:"payload,omitempty"`
}

// launchPayload tells the agent about the call, as Voiceflow's telephony
// integration does.
type launchPayload struct {
	CallType    string `json:"callType"`
	UserNumber  string `json:"userNumber"`
	AgentNumber string `json:"agentNumber"`
}

// APIError is an unusable answer from the runtime.
type APIError struct {
	Status int
	Body   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("voiceflow: runtime answered HTTP %d: %.200s", e.Status, e.Body)
}

// interact sends one action for user and returns the traces.
func (c *client) interact(ctx context.Context, user string, a action) ([]Trace, error) {
	body, err := json.Marshal(struct {
		Action action        `json:"action"`
		Config requestConfig `json:"config"`
	}{a, c.config})
	if err != nil {
		return nil, err
	}
	u := c.runtime + "/state/user/" + url.PathEscape(user) + "/interact"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", c.apiKey)
	req.Header.Set("versionID", c.version)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("voiceflow: %w", err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("voiceflow: reading the response: %w", err)
	}
	if res.StatusCode/100 != 2 {
		return nil, &APIError{Status: res.StatusCode, Body: string(b)}
	}
	return DecodeTraces(b)
}
