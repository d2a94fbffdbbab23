package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaultParses(t *testing.T) {
	cfg, err := Parse(Default, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Listeners(); len(got) != 2 || got[0] != (Listener{"udp", "127.0.0.1:5060"}) || got[1] != (Listener{"tcp", "127.0.0.1:5060"}) {
		t.Errorf("listeners = %v", got)
	}
	if lo, hi := cfg.RTPPortRange(); lo != 20000 || hi != 29999 {
		t.Errorf("rtp ports = %d-%d", lo, hi)
	}
	if cfg.Media.RTPTimeout.D() != 60*time.Second || cfg.Limits.MaxCalls != 1000 || cfg.Media.JitterBuffer != 3 {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	if cfg.Agents["demo"].Kind != "flow" || cfg.Routes[0].Agent != "demo" {
		t.Errorf("agents/routes: %+v %+v", cfg.Agents, cfg.Routes)
	}
}

func TestEnvExpansion(t *testing.T) {
	doc := `
sip:
  listen: ["udp://${BIND}:5070"]
  external_host: "${EXT:-203.0.113.7}"
agents: {a: {kind: echo}}
routes: [{agent: a}]
peers: [{name: l, addresses: [127.0.0.1]}]
`
	doc += "limits:\n  max_calls: ${MAX_CALLS:-250}\nmedia:\n  rtp_timeout: ${RTP_TIMEOUT}\n  jitter_buffer: ${JB}\n"
	cfg, err := Parse([]byte(doc), env(map[string]string{"BIND": "10.0.0.1", "RTP_TIMEOUT": "30s", "JB": "5"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SIP.Listen[0] != "udp://10.0.0.1:5070" || cfg.SIP.ExternalHost != "203.0.113.7" {
		t.Errorf("got %q %q", cfg.SIP.Listen[0], cfg.SIP.ExternalHost)
	}
	if cfg.Limits.MaxCalls != 250 || cfg.Media.RTPTimeout.D() != 30*time.Second || cfg.Media.JitterBuffer != 5 {
		t.Errorf("typed values from env: max_calls %d, rtp_timeout %v, jitter_buffer %d",
			cfg.Limits.MaxCalls, cfg.Media.RTPTimeout.D(), cfg.Media.JitterBuffer)
	}
	if cfg.Agents["a"].Delay.D() != 200*time.Millisecond {
		t.Errorf("echo delay default = %v", cfg.Agents["a"].Delay.D())
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	noPeers := "agents: {demo: {kind: flow}}\nroutes: [{agent: demo}]\n"
	base := "agents: {demo: {kind: flow}}\nroutes: [{agent: demo}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n"
	tests := []struct {
		name, doc, key string
	}{
		{"unknown top key", "sipp: {}\n" + base, "sipp"},
		{"unknown nested key", "sip: {lisen: []}\n" + base, "sip.lisen"},
		{"unknown agent key", "agents: {demo: {kind: flow, flw: x}}\nroutes: [{agent: demo}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.demo.flw"},
		{"unknown route key", "agents: {demo: {kind: flow}}\nroutes: [{agent: demo, usr: x}]\n", "routes[0].usr"},
		{"bad transport", "sip: {listen: [\"sctp://0.0.0.0:5060\"]}\n" + base, "sip.listen[0]"},
		{"listen host not IP", "sip: {listen: [\"udp://example.com:5060\"]}\n" + base, "sip.listen[0]"},
		{"bad external host", "sip: {external_host: \"a b\"}\n" + base, "sip.external_host"},
		{"bad port range", "media: {rtp_ports: \"30000\"}\n" + base, "media.rtp_ports"},
		{"inverted port range", "media: {rtp_ports: \"30000-20000\"}\n" + base, "media.rtp_ports"},
		{"unknown codec", "media: {codecs: [PCMU, G729]}\n" + base, "media.codecs[1]"},
		{"duplicate codec", "media: {codecs: [PCMU, pcmu]}\n" + base, "media.codecs[1]"},
		{"bad duration", "media: {rtp_timeout: soon}\n" + base, "media.rtp_timeout"},
		{"jitter out of range", "media: {jitter_buffer: 99}\n" + base, "media.jitter_buffer"},
		{"no agents", "routes: [{agent: demo}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents"},
		{"bad kind", "agents: {demo: {kind: robot}}\nroutes: [{agent: demo}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.demo.kind"},
		{"route to nowhere", "agents: {demo: {kind: flow}}\nroutes: [{agent: nobody}]\n", "routes[0].agent"},
		{"bad source", "agents: {demo: {kind: flow}}\nroutes: [{agent: demo, source: 10.0.0.1}]\n", "routes[0].source"},
		{"no routes", "agents: {demo: {kind: flow}}\n", "routes"},
		{"unset env", "sip: {external_host: \"${NOPE}\"}\n" + base, "sip.external_host"},
		{"bad log level", "log: {level: loud}\n" + base, "log.level"},
		{"max calls", "limits: {max_calls: -1}\n" + base, "limits.max_calls"},
		{"nobody may call in", "agents: {demo: {kind: flow}}\nroutes: [{agent: demo}]\n", "peers"},
		{"bad peer address", "peers: [{name: x, addresses: [10.0.0.300]}]\n" + noPeers, "peers[0].addresses[0]"},
		{"peer without name", "peers: [{addresses: [10.0.0.0/8]}]\n" + noPeers, "peers[0].name"},
		{"user without secret", "users: [{username: alice}]\n" + noPeers, "users[0].password"},
		{"duplicate user", "users: [{username: a, password: x}, {username: a, password: y}]\n" + noPeers, "users[1].username"},
		{"short ha1", "users: [{username: a, ha1: abc}]\n" + noPeers, "users[0].ha1"},
		{"missing password file", "users: [{username: a, password_file: /nonexistent/pw}]\n" + noPeers, "users[0].password_file"},
		{"bad algorithm", "auth: {algorithms: [SHA-1]}\n" + base, "auth.algorithms[0]"},
		{"bad unknown policy", "auth: {unknown: ignore}\n" + base, "auth.unknown"},
		{"registrar with user", "accounts: [{name: t, registrar: \"sip:agent@example.com\", username: agent, password: x, agent: demo}]\n" + base, "accounts[0].registrar"},
		{"registrar not sip", "accounts: [{name: t, registrar: \"http://example.com\", username: agent, password: x, agent: demo}]\n" + base, "accounts[0].registrar"},
		{"account tls without listener", "accounts: [{name: t, registrar: \"sip:example.com\", username: agent, password: x, transport: tls, agent: demo}]\n" + base, "accounts[0].transport"},
		{"tls listener without certificate", "sip: {listen: [\"tls://127.0.0.1:5061\"]}\n" + base, "sip.tls.cert_file"},
		{"tls key without certificate", "sip: {tls: {key_file: /k.pem}}\n" + base, "sip.tls.cert_file"},
		{"tls certificate without key", "sip: {tls: {cert_file: /c.pem}}\n" + base, "sip.tls.key_file"},
		{"tls certificate missing", "sip: {tls: {cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem}}\n" + base, "sip.tls.cert_file"},
		{"tls ca missing", "sip: {tls: {ca_file: /nonexistent/ca.pem}}\n" + base, "sip.tls.ca_file"},
		{"account without listener", "sip: {listen: [\"udp://127.0.0.1:5060\"]}\naccounts: [{name: t, registrar: \"sip:example.com\", username: agent, password: x, transport: tcp, agent: demo}]\n" + base, "accounts[0].transport"},
		{"account agent", "accounts: [{name: t, registrar: \"sip:example.com\", username: agent, password: x, agent: nobody}]\n" + base, "accounts[0].agent"},
		{"account password", "accounts: [{name: t, registrar: \"sip:example.com\", username: agent, agent: demo}]\n" + base, "accounts[0].password"},
		{"account expires", "accounts: [{name: t, registrar: \"sip:example.com\", username: agent, password: x, expires: 5, agent: demo}]\n" + base, "accounts[0].expires"},
		{"http listen", "http: {listen: nohost}\n" + base, "http.listen"},
		{"forward not allowed", "agents: {demo: {kind: flow, forward_to: \"sip:sales@example.com\"}}\nroutes: [{agent: demo}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.demo.forward_to"},
		{"forward not a sip uri", "transfer: {allow: [example.com]}\nagents: {demo: {kind: flow, forward_to: \"tel:+15550100\"}}\nroutes: [{agent: demo}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.demo.forward_to"},
		{"bad forward mode", "transfer: {allow: [example.com]}\nagents: {demo: {kind: flow, forward_to: \"sip:sales@example.com\", forward_mode: fax}}\nroutes: [{agent: demo}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.demo.forward_mode"},
		{"echo forwards", "transfer: {allow: [example.com]}\nagents: {e: {kind: echo, forward_to: \"sip:sales@example.com\"}}\nroutes: [{agent: e}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.e.forward_to"},
		{"bad allow pattern", "transfer: {allow: [\"*\"]}\n" + base, "transfer.allow"},
		{"block_for too short", "auth: {block_for: 1ns}\n" + base, "auth.block_for"},
		{"failure_window too short", "auth: {failure_window: 10ms}\n" + base, "auth.failure_window"},
		{"ha1 without md5", "auth: {algorithms: [SHA-256]}\nusers: [{username: a, ha1: 0123456789abcdef0123456789abcdef}]\n" + noPeers, "users[0]"},
		{"twiml without url", "agents: {app: {kind: twiml}}\nroutes: [{agent: app}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.app.url"},
		{"twiml bad url", "agents: {app: {kind: twiml, url: \"ftp://x\"}}\nroutes: [{agent: app}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.app.url"},
		{"twiml bad method", "agents: {app: {kind: twiml, url: \"http://x/v\", method: PUT}}\nroutes: [{agent: app}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.app.method"},
		{"twiml unknown fallback", "agents: {app: {kind: twiml, url: \"http://x/v\", fallback: nobody}}\nroutes: [{agent: app}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.app.fallback"},
		{"twiml fallback circle", "agents: {a: {kind: twiml, url: \"http://x/v\", fallback: b}, b: {kind: twiml, url: \"http://x/w\", fallback: a}}\nroutes: [{agent: a}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "fallback"},
		{"twiml token file", "agents: {app: {kind: twiml, url: \"http://x/v\", auth_token_file: /nonexistent/t}}\nroutes: [{agent: app}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.app.auth_token_file"},
		{"url on a flow", "agents: {demo: {kind: flow, url: \"http://x/v\"}}\nroutes: [{agent: demo}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.demo.url"},
		{"api token too short", "api: {auth_token: short}\nhttp: {listen: \"127.0.0.1:8089\"}\n" + base, "api.auth_token"},
		{"api without http", "api: {auth_token: 0123456789abcdef0123}\n" + base, "http.listen"},
		{"api bad account", "api: {account_sid: \"a/b\", auth_token: 0123456789abcdef0123}\nhttp: {listen: \"127.0.0.1:8089\"}\n" + base, "api.account_sid"},
		{"api account without token", "api: {account_sid: AC1}\n" + base, "api.auth_token"},
		{"voiceflow without key", "agents: {vf: {kind: voiceflow}}\nroutes: [{agent: vf}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.vf.api_key"},
		{"voiceflow bad user id", "agents: {vf: {kind: voiceflow, api_key: k, user_id: everyone}}\nroutes: [{agent: vf}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.vf.user_id"},
		{"voiceflow template not allowed", "agents: {vf: {kind: voiceflow, api_key: k, forward_template: \"sip:{number}@trunk.example.com\"}}\nroutes: [{agent: vf}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.vf.forward_template"},
		{"voiceflow template without number", "transfer: {allow: [example.com]}\nagents: {vf: {kind: voiceflow, api_key: k, forward_template: \"sip:sales@example.com\"}}\nroutes: [{agent: vf}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.vf.forward_template"},
		{"api_key on a flow", "agents: {demo: {kind: flow, api_key: k}}\nroutes: [{agent: demo}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n", "agents.demo.api_key"},
		{"unknown recognizer", "speech: {recognizer: siri}\n" + base, "speech.recognizer"},
		{"deepgram without key", "speech: {recognizer: deepgram}\n" + base, "speech.deepgram.api_key"},
		{"deepgram not chosen", "speech: {recognizer: pocketsphinx, deepgram: {api_key: k}}\n" + base, "speech.deepgram"},
		{"deepgram bad url", "speech: {recognizer: deepgram, deepgram: {api_key: k, url: \"https://x\"}}\n" + base, "speech.deepgram.url"},
		{"keepalive too short", "accounts: [{name: t, registrar: \"sip:example.com\", username: agent, password: x, keepalive: 1ms, agent: demo}]\n" + base, "accounts[0].keepalive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q does not name %q", err, tt.key)
			}
			var ce *Error
			if !errors.As(err, &ce) || !strings.HasSuffix(ce.Key, tt.key) {
				t.Errorf("Key = %q, want %q", ce.Key, tt.key)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Default)
	f.Add([]byte("sip: {listen: [\"udp://[::1]:0\"]}\nagents: {a: {kind: echo}}\nroutes: [{agent: a}]\npeers: [{name: l, addresses: [127.0.0.1]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, env(nil))
		if err == nil {
			// A config that validates must be usable as is.
			_ = cfg.Listeners()
			if lo, hi := cfg.RTPPortRange(); lo >= hi {
				t.Fatalf("validated range %d-%d", lo, hi)
			}
			if len(cfg.CodecList()) == 0 {
				t.Fatal("validated config without codecs")
			}
		}
	})
}

func TestAccountsUsersAndSecrets(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `
agents: {demo: {kind: echo}}
routes: [{agent: demo}]
users:
  - {username: alice, password_file: ` + pwFile + `}
accounts:
  - {name: twilio, registrar: "sip:example.sip.twilio.com", proxy: "sip:edge.example:5080", username: agent, password: "${TW}", agent: demo}
`
	cfg, err := Parse([]byte(doc), env(map[string]string{"TW": "from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Users[0].Password != "from-a-file" {
		t.Errorf("password_file read as %q", cfg.Users[0].Password)
	}
	a := cfg.Accounts[0]
	if a.Password != "from-env" || a.Transport != "udp" || a.Expires != 600 || a.KeepAlive.D() != 25*time.Second {
		t.Errorf("account defaults: %+v", a)
	}
	reg, proxy := cfg.AccountURIs(0)
	if reg.Host != "example.sip.twilio.com" || proxy == nil || proxy.Host != "edge.example" || proxy.Port != 5080 {
		t.Errorf("registrar %v proxy %v", reg, proxy)
	}
	if cfg.Auth.Realm != "sipagent" || len(cfg.Auth.Algorithms) != 1 || cfg.Auth.Algorithms[0] != "MD5" || cfg.Auth.Unknown != "reject" {
		t.Errorf("auth defaults: %+v", cfg.Auth)
	}
}

func TestForwardConfig(t *testing.T) {
	doc := `
agents: {demo: {kind: flow, forward_to: "sip:sales@pbx.example.com;transport=tcp", forward_mode: refer}}
routes: [{agent: demo}]
peers: [{name: l, addresses: [127.0.0.1]}]
transfer: {allow: ["sip:*@pbx.example.com"]}
`
	cfg, err := Parse([]byte(doc), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Agents["demo"]; a.ForwardTo == "" || a.ForwardMode != "refer" {
		t.Errorf("agent %+v", a)
	}
	if p := cfg.TransferPolicy(); len(p.Patterns()) != 1 {
		t.Errorf("policy patterns %v", p.Patterns())
	}
}

func TestTwiMLAgentConfig(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `
agents:
  app: {kind: twiml, url: "https://app.example.com/voice", method: get, auth_token_file: ` + tokenFile + `, timeout: 5s, fallback: demo}
  demo: {kind: flow}
routes: [{agent: app}]
peers: [{name: l, addresses: [127.0.0.1]}]
`
	cfg, err := Parse([]byte(doc), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Agents["app"]; a.AuthToken != "s3cret" || a.URL != "https://app.example.com/voice" || a.Fallback != "demo" || a.Timeout.D() != 5*time.Second {
		t.Errorf("agent %+v", a)
	}
}

func TestVoiceflowAgentConfig(t *testing.T) {
	doc := `
transfer: {allow: ["sip:*@trunk.example.com"]}
agents:
  vf: {kind: voiceflow, api_key: "${VF_KEY}", version_id: development, user_id: caller, tts: false, no_input: 5s, forward_template: "sip:{number}@trunk.example.com", fallback: demo}
  demo: {kind: flow}
routes: [{agent: vf}]
peers: [{name: l, addresses: [127.0.0.1]}]
`
	cfg, err := Parse([]byte(doc), env(map[string]string{"VF_KEY": "VF.DM.abc"}))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Agents["vf"]
	if a.APIKey != "VF.DM.abc" || a.TTS == nil || *a.TTS || a.UserID != "caller" || a.NoInput.D() != 5*time.Second {
		t.Errorf("agent %+v", a)
	}
}
