package config

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

func (c *Config) applyAuthDefaults() {
	if c.Auth.Realm == "" {
		c.Auth.Realm = "sipagent"
	}
	if c.Auth.Unknown == "" {
		c.Auth.Unknown = "reject"
	}
	if c.Auth.MaxFailures == 0 {
		c.Auth.MaxFailures = 5
	}
	if c.Auth.FailureWindow == 0 {
		c.Auth.FailureWindow = Duration(time.Minute)
	}
	if c.Auth.BlockFor == 0 {
		c.Auth.BlockFor = Duration(10 * time.Minute)
	}
	if c.Auth.NonceLifetime == 0 {
		c.Auth.NonceLifetime = Duration(5 * time.Minute)
	}
	if len(c.Auth.Algorithms) == 0 {
		c.Auth.Algorithms = []string{"MD5"}
	}
	if c.Registrar.MinExpires == 0 {
		c.Registrar.MinExpires = 60
	}
	if c.Registrar.MaxExpires == 0 {
		c.Registrar.MaxExpires = 3600
	}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if a.Transport == "" {
			a.Transport = "udp"
		}
		if a.Expires == 0 {
			a.Expires = 600
		}
		if a.KeepAlive == 0 {
			a.KeepAlive = Duration(25 * time.Second)
		}
	}
}

// validateAuth checks who may call in, the registrar and the accounts.
// It also reads password_file secrets, so that a missing file stops the
// start like any other bad key.
func (c *Config) validateAuth() error {
	for i, p := range c.Peers {
		key := fmt.Sprintf("peers[%d]", i)
		if p.Name == "" {
			return &Error{Key: key + ".name", Msg: "missing"}
		}
		if len(p.Addresses) == 0 {
			return &Error{Key: key + ".addresses", Msg: "at least one address or CIDR prefix is required"}
		}
		for j, a := range p.Addresses {
			if _, err := parsePrefix(a); err != nil {
				return &Error{Key: fmt.Sprintf("%s.addresses[%d]", key, j), Msg: err.Error()}
			}
		}
	}
	seen := map[string]bool{}
	for i := range c.Users {
		u := &c.Users[i]
		key := fmt.Sprintf("users[%d]", i)
		if err := uniqueName(key+".username", u.Username, seen); err != nil {
			return err
		}
		if err := readSecret(&u.Password, u.PasswordFile, key, "password"); err != nil {
			return err
		}
		if u.HA1 != "" && !isHexLen(u.HA1, 32) {
			return &Error{Key: key + ".ha1", Msg: "must be 32 hex digits (MD5 of username:realm:password)"}
		}
		if u.HA1SHA256 != "" && !isHexLen(u.HA1SHA256, 64) {
			return &Error{Key: key + ".ha1_sha256", Msg: "must be 64 hex digits (SHA-256 of username:realm:password)"}
		}
		if u.Password == "" && u.HA1 == "" && u.HA1SHA256 == "" {
			return &Error{Key: key + ".password", Msg: "missing (give password, password_file, ha1 or ha1_sha256)"}
		}
	}
	if err := c.validateAuthTuning(); err != nil {
		return err
	}
	names := map[string]bool{}
	for i := range c.Accounts {
		if err := c.validateAccount(i, names); err != nil {
			return err
		}
	}
	if l := c.HTTP.Listen; l != "" {
		if _, _, err := net.SplitHostPort(l); err != nil {
			return &Error{Key: "http.listen", Msg: fmt.Sprintf("%q is not host:port, e.g. 127.0.0.1:8089", l)}
		}
	}
	return nil
}

// validateReach runs last, so that a config with another mistake gets
// told about that first.
func (c *Config) validateReach() error {
	if len(c.Peers) == 0 && len(c.Users) == 0 && len(c.Accounts) == 0 {
		return &Error{Key: "peers", Msg: "nobody may call in: list peers (trusted addresses), users (digest credentials) or accounts (registrations)"}
	}
	return nil
}

func (c *Config) validateAuthTuning() error {
	if r := c.Auth.Realm; strings.ContainsAny(r, "\"\\\r\n") {
		return &Error{Key: "auth.realm", Msg: "must not contain quotes, backslashes or line breaks"}
	}
	switch c.Auth.Unknown {
	case "reject", "drop":
	default:
		return &Error{Key: "auth.unknown", Msg: fmt.Sprintf("%q is not one of reject, drop", c.Auth.Unknown)}
	}
	seen := map[string]bool{}
	for i, a := range c.Auth.Algorithms {
		switch a {
		case "MD5", "SHA-256", "SHA-512-256":
		default:
			return &Error{Key: fmt.Sprintf("auth.algorithms[%d]", i), Msg: fmt.Sprintf("%q is not one of MD5, SHA-256, SHA-512-256", a)}
		}
		if seen[a] {
			return &Error{Key: fmt.Sprintf("auth.algorithms[%d]", i), Msg: fmt.Sprintf("%q listed twice", a)}
		}
		seen[a] = true
	}
	if c.Auth.MaxFailures < 1 {
		return &Error{Key: "auth.max_failures", Msg: "must be at least 1"}
	}
	if c.Auth.FailureWindow.D() < time.Second {
		return &Error{Key: "auth.failure_window", Msg: "must be 1s or more"}
	}
	if c.Auth.BlockFor.D() < time.Second {
		return &Error{Key: "auth.block_for", Msg: "must be 1s or more"}
	}
	for i, u := range c.Users {
		usable := u.Password != "" || (u.HA1 != "" && seen["MD5"]) || (u.HA1SHA256 != "" && seen["SHA-256"])
		if !usable {
			return &Error{Key: fmt.Sprintf("users[%d]", i), Msg: "has no secret for any algorithm in auth.algorithms: give a password, or an HA1 for an offered algorithm"}
		}
	}
	if c.Auth.NonceLifetime.D() < 10*time.Second {
		return &Error{Key: "auth.nonce_lifetime", Msg: "must be 10s or more"}
	}
	if c.Registrar.MinExpires < 1 || c.Registrar.MaxExpires < c.Registrar.MinExpires {
		return &Error{Key: "registrar.min_expires", Msg: "must be at least 1 and at most registrar.max_expires"}
	}
	return nil
}

func (c *Config) validateAccount(i int, names map[string]bool) error {
	a := &c.Accounts[i]
	key := fmt.Sprintf("accounts[%d]", i)
	if err := uniqueName(key+".name", a.Name, names); err != nil {
		return err
	}
	u, err := parseSIPURI(a.Registrar)
	if err != nil {
		return &Error{Key: key + ".registrar", Msg: err.Error()}
	}
	if u.User != "" {
		return &Error{Key: key + ".registrar", Msg: fmt.Sprintf("%q has a user part; the registrar URI is the domain only, e.g. sip:example.sip.twilio.com", a.Registrar)}
	}
	if a.Proxy != "" {
		if _, err := parseSIPURI(a.Proxy); err != nil {
			return &Error{Key: key + ".proxy", Msg: err.Error()}
		}
	}
	if a.Username == "" {
		return &Error{Key: key + ".username", Msg: "missing"}
	}
	if err := readSecret(&a.Password, a.PasswordFile, key, "password"); err != nil {
		return err
	}
	if a.Password == "" {
		return &Error{Key: key + ".password", Msg: "missing (give password, ${ENV} or password_file)"}
	}
	switch a.Transport {
	case "udp", "tcp", "tls":
	default:
		return &Error{Key: key + ".transport", Msg: fmt.Sprintf("%q is not one of udp, tcp, tls", a.Transport)}
	}
	if !c.listensOn(a.Transport) {
		return &Error{Key: key + ".transport", Msg: fmt.Sprintf("%s needs a %s listener in sip.listen", a.Transport, a.Transport)}
	}
	if a.KeepAlive.D() < 5*time.Second {
		return &Error{Key: key + ".keepalive", Msg: "must be 5s or more"}
	}
	if a.Expires < 10 || a.Expires > 86400 {
		return &Error{Key: key + ".expires", Msg: fmt.Sprintf("%d seconds is out of range 10-86400", a.Expires)}
	}
	if _, ok := c.Agents[a.Agent]; !ok {
		return &Error{Key: key + ".agent", Msg: fmt.Sprintf("no agent named %q", a.Agent)}
	}
	return nil
}

// uniqueName checks that a list entry's name (at key) is given and not
// taken by an earlier entry, and records it in seen.
func uniqueName(key, name string, seen map[string]bool) error {
	if name == "" {
		return &Error{Key: key, Msg: "missing"}
	}
	if seen[name] {
		return &Error{Key: key, Msg: fmt.Sprintf("%q is listed twice", name)}
	}
	seen[name] = true
	return nil
}

func (c *Config) listensOn(transport string) bool {
	for _, l := range c.SIP.Listen {
		if ln, err := parseListen(l); err == nil && ln.Transport == transport {
			return true
		}
	}
	return false
}

// readSecret fills *dst, the secret key.name, from file (key.name_file)
// when file is set; a secret given both ways is an error rather than a
// guess.
func readSecret(dst *string, file, key, name string) error {
	if file == "" {
		return nil
	}
	fileKey := key + "." + name + "_file"
	if *dst != "" {
		return &Error{Key: fileKey, Msg: fmt.Sprintf("give %s or %s_file, not both", name, name)}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return &Error{Key: fileKey, Msg: err.Error()}
	}
	*dst = strings.TrimRight(string(b), "\r\n")
	if *dst == "" {
		return &Error{Key: fileKey, Msg: fmt.Sprintf("%s is empty", file)}
	}
	return nil
}

func parseSIPURI(s string) (sip.Uri, error) {
	var u sip.Uri
	if !strings.HasPrefix(strings.ToLower(s), "sip:") {
		return u, fmt.Errorf("%q is not a sip: URI", s)
	}
	if err := sip.ParseUri(s, &u); err != nil || u.Host == "" {
		return u, fmt.Errorf("%q is not a sip: URI", s)
	}
	return u, nil
}

// parsePrefix accepts a CIDR prefix or a single address.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR prefix such as 192.0.2.0/24", s)
}

func isHexLen(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return false
		}
	}
	return true
}

// PeerPrefixes returns peers[i].addresses parsed. Call it after Validate.
func (c *Config) PeerPrefixes(i int) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(c.Peers[i].Addresses))
	for _, a := range c.Peers[i].Addresses {
		p, _ := parsePrefix(a)
		out = append(out, p)
	}
	return out
}

// AccountURIs returns accounts[i]'s registrar and proxy (nil if none)
// parsed. Call it after Validate.
func (c *Config) AccountURIs(i int) (registrar sip.Uri, proxy *sip.Uri) {
	registrar, _ = parseSIPURI(c.Accounts[i].Registrar)
	if p := c.Accounts[i].Proxy; p != "" {
		u, _ := parseSIPURI(p)
		proxy = &u
	}
	return registrar, proxy
}
