package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sipagent/sipagent/transfer"
)

// validateTwiML checks a twiml agent and reads its auth_token_file.
func (c *Config) validateTwiML(key, name string, a Agent) error {
	u, err := url.Parse(a.URL)
	switch {
	case a.URL == "":
		return &Error{Key: key + ".url", Msg: "missing: the application's voice URL"}
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return &Error{Key: key + ".url", Msg: fmt.Sprintf("%q is not an http:// or https:// URL", a.URL)}
	}
	if err := checkMethod(key+".method", a.Method); err != nil {
		return err
	}
	if a.StatusCallback != "" {
		if u, err := url.Parse(a.StatusCallback); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{Key: key + ".status_callback", Msg: fmt.Sprintf("%q is not an http:// or https:// URL", a.StatusCallback)}
		}
	}
	if err := checkMethod(key+".status_callback_method", a.StatusCallbackMethod); err != nil {
		return err
	}
	if d := a.Timeout.D(); d < 0 || d > time.Minute {
		return &Error{Key: key + ".timeout", Msg: "must be between 0 (the default, 15s) and 1m"}
	}
	if a.Delay != 0 || a.Flow != "" || a.ForwardTo != "" || a.ForwardMode != "" {
		return &Error{Key: key, Msg: "a twiml agent takes url, method, auth_token, account_sid, timeout, fallback and status_callback; its documents say the rest"}
	}
	if err := readSecret(&a.AuthToken, a.AuthTokenFile, key, "auth_token"); err != nil {
		return err
	}
	if err := c.checkFallback(key, name); err != nil {
		return err
	}
	c.Agents[name] = a
	return nil
}

func checkMethod(key, m string) error {
	switch strings.ToUpper(m) {
	case "", "GET", "POST":
		return nil
	}
	return &Error{Key: key, Msg: fmt.Sprintf("%q is not GET or POST", m)}
}

// checkFallback checks that an agent's fallback names another agent and
// that following fallbacks never comes back round: a failing application
// whose fallback fails back into it would keep a call for ever.
func (c *Config) checkFallback(key, name string) error {
	seen := map[string]bool{name: true}
	for cur := c.Agents[name].Fallback; cur != ""; cur = c.Agents[cur].Fallback {
		if _, ok := c.Agents[cur]; !ok {
			return &Error{Key: key + ".fallback", Msg: fmt.Sprintf("no agent named %q", cur)}
		}
		if seen[cur] {
			return &Error{Key: key + ".fallback", Msg: fmt.Sprintf("fallbacks go round in a circle through %q", cur)}
		}
		seen[cur] = true
	}
	return nil
}

// validateStream checks a stream agent.
func (c *Config) validateStream(key, name string, a Agent) error {
	u, err := url.Parse(a.URL)
	switch {
	case a.URL == "":
		return &Error{Key: key + ".url", Msg: "missing: the agent's WebSocket URL"}
	case err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "":
		return &Error{Key: key + ".url", Msg: fmt.Sprintf("%q is not a ws:// or wss:// URL", a.URL)}
	}
	if a.Delay != 0 || a.Flow != "" || a.ForwardTo != "" || a.ForwardMode != "" {
		return &Error{Key: key, Msg: "a stream agent takes url, parameters, headers, account_sid and fallback"}
	}
	return c.checkFallback(key, name)
}

// validateVoiceflow checks a voiceflow agent and reads its api_key_file.
func (c *Config) validateVoiceflow(key, name string, a Agent) error {
	if err := readSecret(&a.APIKey, a.APIKeyFile, key, "api_key"); err != nil {
		return err
	}
	if a.APIKey == "" {
		return &Error{Key: key + ".api_key", Msg: "missing (give api_key, ${ENV} or api_key_file)"}
	}
	if a.Runtime != "" {
		if u, err := url.Parse(a.Runtime); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{Key: key + ".runtime", Msg: fmt.Sprintf("%q is not an http:// or https:// URL", a.Runtime)}
		}
	}
	switch a.UserID {
	case "", "call", "caller":
	default:
		return &Error{Key: key + ".user_id", Msg: fmt.Sprintf("%q is not call or caller", a.UserID)}
	}
	if a.ForwardTemplate != "" {
		if !strings.Contains(a.ForwardTemplate, "{number}") {
			return &Error{Key: key + ".forward_template", Msg: "has no {number} to put the number in"}
		}
		t, err := transfer.ParseTarget(strings.ReplaceAll(a.ForwardTemplate, "{number}", "15550100"))
		if err != nil {
			return &Error{Key: key + ".forward_template", Msg: err.Error()}
		}
		policy, err := transfer.NewPolicy(c.Transfer.Allow)
		if err != nil {
			return &Error{Key: "transfer.allow", Msg: err.Error()}
		}
		if policy.Allow(t) != nil {
			return &Error{Key: key + ".forward_template", Msg: fmt.Sprintf("%s is not in transfer.allow, so every forward-call would be refused", t.String())}
		}
	}
	if d := a.Timeout.D(); d < 0 || d > time.Minute {
		return &Error{Key: key + ".timeout", Msg: "must be between 0 (the default, 10s) and 1m"}
	}
	if d := a.NoInput.D(); d < 0 || d > 5*time.Minute {
		return &Error{Key: key + ".no_input", Msg: "must be between 0 (the default, 8s) and 5m"}
	}
	if a.Delay != 0 || a.Flow != "" || a.ForwardTo != "" || a.ForwardMode != "" {
		return &Error{Key: key, Msg: "a voiceflow agent takes runtime, api_key, version_id, user_id, tts, strip_ssml, exclude_types, timeout, no_input, no_input_event, dtmf_as_text, forward_template, apology and fallback"}
	}
	if err := c.checkFallback(key, name); err != nil {
		return err
	}
	c.Agents[name] = a
	return nil
}

// webKeys refuses each web agent key on the kinds that do not take it.
func webKeys(key string, a Agent) error {
	twiml, stream, vf := a.Kind == "twiml", a.Kind == "stream", a.Kind == "voiceflow"
	for _, f := range []struct {
		name string
		set  bool
		ok   bool
	}{
		{"url", a.URL != "", twiml || stream},
		{"account_sid", a.AccountSid != "", twiml || stream},
		{"fallback", a.Fallback != "", twiml || stream || vf},
		{"method", a.Method != "", twiml},
		{"auth_token", a.AuthToken != "", twiml},
		{"auth_token_file", a.AuthTokenFile != "", twiml},
		{"timeout", a.Timeout != 0, twiml || vf},
		{"runtime", a.Runtime != "", vf},
		{"api_key", a.APIKey != "", vf},
		{"api_key_file", a.APIKeyFile != "", vf},
		{"version_id", a.VersionID != "", vf},
		{"user_id", a.UserID != "", vf},
		{"tts", a.TTS != nil, vf},
		{"strip_ssml", a.StripSSML, vf},
		{"exclude_types", len(a.ExcludeTypes) > 0, vf},
		{"no_input", a.NoInput != 0, vf},
		{"no_input_event", a.NoInputEvent != "", vf},
		{"dtmf_as_text", a.DTMFAsText, vf},
		{"forward_template", a.ForwardTemplate != "", vf},
		{"apology", a.Apology != "", vf},
		{"status_callback", a.StatusCallback != "", twiml},
		{"status_callback_method", a.StatusCallbackMethod != "", twiml},
		{"parameters", len(a.Parameters) > 0, stream},
		{"headers", len(a.Headers) > 0, stream},
	} {
		if f.set && !f.ok {
			return &Error{Key: key + "." + f.name, Msg: fmt.Sprintf("a %s agent does not take it", a.Kind)}
		}
	}
	return nil
}

// validateAPI reads the API's token file and checks the API has an HTTP
// server to run on.
func (c *Config) validateAPI() error {
	if err := readSecret(&c.API.AuthToken, c.API.AuthTokenFile, "api", "auth_token"); err != nil {
		return err
	}
	if c.API.AuthToken == "" {
		if c.API.AccountSid != "" {
			return &Error{Key: "api.auth_token", Msg: "missing: the API is off without one"}
		}
		return nil
	}
	if len(c.API.AuthToken) < 16 {
		return &Error{Key: "api.auth_token", Msg: "too short: use at least 16 characters"}
	}
	if c.HTTP.Listen == "" {
		return &Error{Key: "http.listen", Msg: "needed to serve the API (api.auth_token is set)"}
	}
	if c.API.AccountSid == "" {
		c.API.AccountSid = "AC" + strings.Repeat("0", 32)
	}
	if len(c.API.AccountSid) > 64 || strings.ContainsFunc(c.API.AccountSid, notSidChar) {
		return &Error{Key: "api.account_sid", Msg: fmt.Sprintf("%q: want letters, digits, - and _, at most 64", c.API.AccountSid)}
	}
	return nil
}

func notSidChar(r rune) bool {
	ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
	return !ok
}

// validateSpeech checks the speech section and reads Deepgram's key file.
func (c *Config) validateSpeech() error {
	sp := &c.Speech
	switch sp.Recognizer {
	case "", "none", "pocketsphinx":
		if sp.Deepgram != (Deepgram{}) {
			return &Error{Key: "speech.deepgram", Msg: "set, but speech.recognizer is not deepgram"}
		}
	case "deepgram":
		if err := readSecret(&sp.Deepgram.APIKey, sp.Deepgram.APIKeyFile, "speech.deepgram", "api_key"); err != nil {
			return err
		}
		if sp.Deepgram.APIKey == "" {
			return &Error{Key: "speech.deepgram.api_key", Msg: "missing (give api_key, ${ENV} or api_key_file)"}
		}
		if u := sp.Deepgram.URL; u != "" && !strings.HasPrefix(u, "wss://") && !strings.HasPrefix(u, "ws://") {
			return &Error{Key: "speech.deepgram.url", Msg: fmt.Sprintf("%q is not a ws:// or wss:// URL", u)}
		}
	default:
		return &Error{Key: "speech.recognizer", Msg: fmt.Sprintf("%q is not none, pocketsphinx or deepgram", sp.Recognizer)}
	}
	return nil
}
