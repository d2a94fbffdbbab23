package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/speech"
	"github.com/sipagent/sipagent/agent/twiml"
	"github.com/sipagent/sipagent/cmd/sipagent/api"
	"github.com/sipagent/sipagent/cmd/sipagent/config"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/sip/digest"
	"github.com/sipagent/sipagent/transfer"
)

// portQuarantine keeps a freed RTP port out of use long enough for the
// last call's stray packets to stop arriving.
const portQuarantine = 2 * time.Second

// build turns a validated configuration into a ready, not yet started,
// server, and returns the agents it built and the recognizer they share
// (for the live-call API). Errors name the configuration key at fault.
func build(cfg *config.Config, log *slog.Logger) (*sip.Server, *agentEnv, error) {
	env := &agentEnv{agents: make(map[string]agent.Agent, len(cfg.Agents))}
	agents := env.agents
	rec, err := buildRecognizer(cfg.Speech, log)
	if err != nil {
		return nil, nil, fmt.Errorf("config: speech.recognizer: %w", err)
	}
	env.recognizer = rec
	for name, ac := range cfg.Agents {
		a, err := buildAgent(ac, env, log.With("agent", name))
		if err != nil {
			return nil, nil, fmt.Errorf("config: agents.%s: %w", name, err)
		}
		agents[name] = a
	}

	routes := make(sip.Routes, 0, len(cfg.Routes))
	for i, rc := range cfg.Routes {
		r := sip.Route{Name: fmt.Sprintf("routes[%d]", i), User: rc.User, From: rc.From, Agent: agents[rc.Agent]}
		if rc.Source != "" {
			r.Source = netip.MustParsePrefix(rc.Source) // checked by Validate
		}
		routes = append(routes, r)
	}
	if err := routes.Validate(); err != nil {
		return nil, nil, fmt.Errorf("config: routes: %w", err)
	}

	lo, hi := cfg.RTPPortRange()
	ports, err := media.NewPortPool(lo, hi, portQuarantine)
	if err != nil {
		return nil, nil, fmt.Errorf("config: media.rtp_ports: %w", err)
	}

	listeners := make([]sip.Listener, 0, len(cfg.SIP.Listen))
	for _, l := range cfg.Listeners() {
		listeners = append(listeners, sip.Listener{Transport: l.Transport, Addr: l.Addr})
	}
	tlsConf, err := cfg.TLSConfig(log)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	srv, err := sip.NewServer(sip.Config{
		Listeners:    listeners,
		TLS:          tlsConf,
		ExternalHost: cfg.SIP.ExternalHost,
		UserAgent:    userAgent(cfg.SIP.UserAgent),
		RingTime:     cfg.SIP.RingTime.D(),
		Codecs:       cfg.CodecList(),
		Ports:        ports,
		RTPTimeout:   cfg.Media.RTPTimeout.D(),
		JitterDepth:  cfg.Media.JitterBuffer,
		MaxCalls:     cfg.Limits.MaxCalls,
		Router:       routes,
		Logger:       log,
		Peers:        peers(cfg, log),
		Users:        users(cfg),
		Auth: sip.AuthConfig{
			Realm:         cfg.Auth.Realm,
			DropUnknown:   cfg.Auth.Unknown == "drop",
			MaxFailures:   cfg.Auth.MaxFailures,
			FailureWindow: cfg.Auth.FailureWindow.D(),
			BlockFor:      cfg.Auth.BlockFor.D(),
			NonceLifetime: cfg.Auth.NonceLifetime.D(),
			Algorithms:    algorithms(cfg.Auth.Algorithms),
		},
		Registrar: sip.RegistrarConfig{
			MinExpires: time.Duration(cfg.Registrar.MinExpires) * time.Second,
			MaxExpires: time.Duration(cfg.Registrar.MaxExpires) * time.Second,
		},
		Accounts:    accounts(cfg, agents),
		Transferrer: transfer.NewService(cfg.TransferPolicy(), transfer.ModeAuto, log.With("component", "transfer")),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("config: sip: %w", err)
	}
	return srv, env, nil
}

func peers(cfg *config.Config, log *slog.Logger) []sip.Peer {
	out := make([]sip.Peer, len(cfg.Peers))
	for i, p := range cfg.Peers {
		out[i] = sip.Peer{Name: p.Name, Nets: cfg.PeerPrefixes(i)}
		for _, n := range out[i].Nets {
			if n.Bits() == 0 {
				log.Warn("a peer covers every address: anyone may call in without credentials", "peer", p.Name, "addresses", n.String())
			}
		}
	}
	return out
}

func algorithms(names []string) []digest.Algorithm {
	out := make([]digest.Algorithm, len(names))
	for i, n := range names {
		out[i] = digest.Algorithm(n) // checked by Validate
	}
	return out
}

func users(cfg *config.Config) []sip.User {
	out := make([]sip.User, len(cfg.Users))
	for i, u := range cfg.Users {
		out[i] = sip.User{Username: u.Username, Secret: digest.Secret{
			Password: u.Password, HA1MD5: u.HA1, HA1SHA256: u.HA1SHA256,
		}}
	}
	return out
}

func accounts(cfg *config.Config, agents map[string]agent.Agent) []sip.Account {
	out := make([]sip.Account, len(cfg.Accounts))
	for i, a := range cfg.Accounts {
		registrar, proxy := cfg.AccountURIs(i)
		out[i] = sip.Account{
			Name:         a.Name,
			Registrar:    registrar,
			Proxy:        proxy,
			Username:     a.Username,
			AuthUsername: a.AuthUsername,
			Password:     a.Password,
			Transport:    a.Transport,
			Expires:      time.Duration(a.Expires) * time.Second,
			KeepAlive:    a.KeepAlive.D(),
			Agent:        agents[a.Agent],
		}
	}
	return out
}

func userAgent(s string) string {
	if s != "" {
		return s
	}
	return "sipagent/" + version
}

// buildAPI builds the live-call REST API, or returns nil when the
// configuration turns it off (no api.auth_token). Calls it places or
// redirects run TwiML agents like the configured ones.
func buildAPI(cfg *config.Config, srv *sip.Server, env *agentEnv, log *slog.Logger) (*api.API, error) {
	if cfg.API.AuthToken == "" {
		return nil, nil
	}
	tc := twiml.Config{Logger: log.With("agent", "api"), Stream: streamFunc(cfg.API.AccountSid, log.With("agent", "api")), Recognizer: env.recognizer}
	if es, err := speech.NewEspeak(); err == nil {
		tc.Synthesizer = speech.NewCache(es, 256)
	}
	return api.New(api.Config{
		AccountSid: cfg.API.AccountSid,
		AuthToken:  cfg.API.AuthToken,
		Calls:      srv,
		Policy:     cfg.TransferPolicy(),
		TwiML:      tc,
		Agents:     env.agents,
		Logger:     log.With("component", "api"),
	})
}
