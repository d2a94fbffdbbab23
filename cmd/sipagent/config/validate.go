package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/transfer"
)

// Listener is one parsed sip.listen entry.
type Listener struct {
	Transport string // udp, tcp or tls
	Addr      string // host:port; port 0 asks the OS for one
}

// Listeners returns sip.listen parsed. Call it after Validate.
func (c *Config) Listeners() []Listener {
	out := make([]Listener, 0, len(c.SIP.Listen))
	for _, l := range c.SIP.Listen {
		ln, _ := parseListen(l)
		out = append(out, ln)
	}
	return out
}

// RTPPortRange returns media.rtp_ports parsed. Call it after Validate.
func (c *Config) RTPPortRange() (lo, hi int) {
	lo, hi, _ = parsePortRange(c.Media.RTPPorts)
	return lo, hi
}

// CodecList returns media.codecs as codecs. Call it after Validate.
func (c *Config) CodecList() []media.Codec {
	out := make([]media.Codec, 0, len(c.Media.Codecs))
	for _, n := range c.Media.Codecs {
		cd, _ := media.CodecByName(n)
		out = append(out, cd)
	}
	return out
}

func (c *Config) applyDefaults() {
	if len(c.SIP.Listen) == 0 {
		c.SIP.Listen = []string{"udp://127.0.0.1:5060", "tcp://127.0.0.1:5060"}
	}
	if c.Media.RTPPorts == "" {
		c.Media.RTPPorts = "20000-29999"
	}
	if len(c.Media.Codecs) == 0 {
		c.Media.Codecs = []string{"PCMU", "PCMA"}
	}
	if c.Media.RTPTimeout == 0 {
		c.Media.RTPTimeout = Duration(60 * time.Second)
	}
	if c.Media.JitterBuffer == 0 {
		c.Media.JitterBuffer = 3
	}
	for name, a := range c.Agents {
		if a.Kind == "echo" && a.Delay == 0 {
			a.Delay = Duration(200 * time.Millisecond)
			c.Agents[name] = a
		}
	}
	if c.Limits.MaxCalls == 0 {
		c.Limits.MaxCalls = 1000
	}
	c.applyAuthDefaults()
	if c.Shutdown.Drain == 0 {
		c.Shutdown.Drain = Duration(10 * time.Second)
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
}

// Validate checks every value and returns the first problem as an *Error.
func (c *Config) Validate() error {
	for i, l := range c.SIP.Listen {
		if _, err := parseListen(l); err != nil {
			return &Error{Key: fmt.Sprintf("sip.listen[%d]", i), Msg: err.Error()}
		}
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	if c.SIP.RingTime.D() > time.Minute {
		return &Error{Key: "sip.ring_time", Msg: "must be 1m or less"}
	}
	if h := c.SIP.ExternalHost; h != "" && !validHost(h) {
		return &Error{Key: "sip.external_host", Msg: fmt.Sprintf("%q is not an IP address or host name", h)}
	}
	if _, _, err := parsePortRange(c.Media.RTPPorts); err != nil {
		return &Error{Key: "media.rtp_ports", Msg: err.Error()}
	}
	seen := map[string]bool{}
	for i, n := range c.Media.Codecs {
		cd, ok := media.CodecByName(n)
		if !ok {
			return &Error{Key: fmt.Sprintf("media.codecs[%d]", i), Msg: fmt.Sprintf("unknown codec %q (supported: PCMU, PCMA)", n)}
		}
		if seen[cd.Name] {
			return &Error{Key: fmt.Sprintf("media.codecs[%d]", i), Msg: fmt.Sprintf("codec %q listed twice", n)}
		}
		seen[cd.Name] = true
	}
	if j := c.Media.JitterBuffer; j < 1 || j > 50 {
		return &Error{Key: "media.jitter_buffer", Msg: fmt.Sprintf("%d packets is out of range 1-50", j)}
	}
	if len(c.Agents) == 0 {
		return &Error{Key: "agents", Msg: "at least one agent is required"}
	}
	for name, a := range c.Agents {
		key := "agents." + name
		switch a.Kind {
		case "flow":
			if a.Delay != 0 {
				return &Error{Key: key + ".delay", Msg: "only echo agents take a delay"}
			}
			if err := c.validateForward(key, a); err != nil {
				return err
			}
		case "echo":
			if a.Flow != "" {
				return &Error{Key: key + ".flow", Msg: "only flow agents take a flow file"}
			}
			if a.Delay.D() > 5*time.Second {
				return &Error{Key: key + ".delay", Msg: "must be 5s or less"}
			}
			if a.ForwardTo != "" || a.ForwardMode != "" {
				return &Error{Key: key + ".forward_to", Msg: "only flow agents forward"}
			}
		case "twiml":
			if err := c.validateTwiML(key, name, a); err != nil {
				return err
			}
		case "stream":
			if err := c.validateStream(key, name, a); err != nil {
				return err
			}
		case "voiceflow":
			if err := c.validateVoiceflow(key, name, a); err != nil {
				return err
			}
		case "":
			return &Error{Key: key + ".kind", Msg: "missing (flow, echo, twiml, stream or voiceflow)"}
		default:
			return &Error{Key: key + ".kind", Msg: fmt.Sprintf("unknown kind %q (flow, echo, twiml, stream or voiceflow)", a.Kind)}
		}
		if err := webKeys(key, a); err != nil {
			return err
		}
	}
	if len(c.Routes) == 0 {
		return &Error{Key: "routes", Msg: "at least one route is required, e.g. `- agent: NAME`"}
	}
	for i, r := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		if r.Agent == "" {
			return &Error{Key: key + ".agent", Msg: "missing"}
		}
		if _, ok := c.Agents[r.Agent]; !ok {
			return &Error{Key: key + ".agent", Msg: fmt.Sprintf("no agent named %q", r.Agent)}
		}
		if r.Source != "" {
			if _, err := netip.ParsePrefix(r.Source); err != nil {
				return &Error{Key: key + ".source", Msg: fmt.Sprintf("%q is not a CIDR prefix such as 192.0.2.0/24", r.Source)}
			}
		}
	}
	if c.Limits.MaxCalls < 1 {
		return &Error{Key: "limits.max_calls", Msg: "must be at least 1"}
	}
	if err := c.validateAuth(); err != nil {
		return err
	}
	if err := c.validateAPI(); err != nil {
		return err
	}
	if err := c.validateSpeech(); err != nil {
		return err
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return &Error{Key: "log.level", Msg: fmt.Sprintf("%q is not one of debug, info, warn, error", c.Log.Level)}
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return &Error{Key: "log.format", Msg: fmt.Sprintf("%q is not one of text, json", c.Log.Format)}
	}
	if _, err := transfer.NewPolicy(c.Transfer.Allow); err != nil {
		return &Error{Key: "transfer.allow", Msg: err.Error()}
	}
	return c.validateReach()
}

func parseListen(s string) (Listener, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return Listener{}, fmt.Errorf("%q is not transport://host:port, e.g. udp://0.0.0.0:5060", s)
	}
	switch u.Scheme {
	case "udp", "tcp", "tls":
	default:
		return Listener{}, fmt.Errorf("transport %q is not supported (udp, tcp, tls)", u.Scheme)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return Listener{}, fmt.Errorf("%q: %v", s, err)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return Listener{}, fmt.Errorf("%q: listen host must be an IP address", s)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return Listener{}, fmt.Errorf("%q: bad port %q", s, port)
	}
	return Listener{Transport: u.Scheme, Addr: u.Host}, nil
}

func parsePortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not MIN-MAX, e.g. 20000-29999", s)
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q is not MIN-MAX, e.g. 20000-29999", s)
	}
	if lo < 1024 || hi > 65535 || hi-lo < 1 {
		return 0, 0, fmt.Errorf("%q must lie within 1024-65535 and hold at least two ports", s)
	}
	return lo, hi, nil
}

func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if r != '-' && (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
				return false
			}
		}
	}
	return true
}
