package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/echo"
	"github.com/sipagent/sipagent/agent/flow"
	"github.com/sipagent/sipagent/agent/speech"
	"github.com/sipagent/sipagent/agent/speech/deepgram"
	"github.com/sipagent/sipagent/agent/stream"
	"github.com/sipagent/sipagent/agent/twiml"
	"github.com/sipagent/sipagent/agent/voiceflow"
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
	srv, err := sip.NewServer(sip.Config{
		Listeners:    listeners,
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

// agentEnv is what agents are built with besides their own configuration:
// the other agents (for fallbacks) and the shared speech recognizer.
type agentEnv struct {
	agents     map[string]agent.Agent
	recognizer speech.Recognizer // nil: agents hear keys only
}

func buildAgent(ac config.Agent, env *agentEnv, log *slog.Logger) (agent.Agent, error) {
	agents := env.agents
	switch ac.Kind {
	case "echo":
		return echo.New(ac.Delay.D()), nil
	case "twiml":
		return buildTwiML(ac, env, log)
	case "voiceflow":
		return buildVoiceflow(ac, env, log)
	case "stream":
		return stream.New(stream.Config{
			URL:        ac.URL,
			Parameters: ac.Parameters,
			Headers:    ac.Headers,
			AccountSid: ac.AccountSid,
			Fallback:   fallbackAgent(ac.Fallback, agents),
			Logger:     log,
		})
	case "flow":
		var f *flow.Flow
		var err error
		if ac.Flow == "" {
			f, err = flow.Demo()
		} else {
			f, err = flow.Load(os.DirFS(filepath.Dir(ac.Flow)), filepath.Base(ac.Flow))
		}
		if err != nil {
			return nil, fmt.Errorf("flow: %w", err)
		}
		opts := []flow.Option{flow.WithLogger(log), flow.WithTransferTarget(ac.ForwardTo), flow.WithTransferMode(ac.ForwardMode)}
		// `say` steps need espeak-ng; a flow of recorded prompts (the
		// demo) runs without it, and flow.New says which step needs it.
		if es, err := speech.NewEspeak(); err == nil {
			opts = append(opts, flow.WithSynthesizer(speech.NewCache(es, 256)))
		}
		return flow.New(f, opts...)
	}
	return nil, fmt.Errorf("kind: unknown kind %q", ac.Kind)
}

// buildTwiML builds a TwiML webhook agent. Its fallback is looked up when
// a call needs it, so agents may name each other in any order (Validate
// has ruled out circles).
func buildTwiML(ac config.Agent, env *agentEnv, log *slog.Logger) (agent.Agent, error) {
	cfg := twiml.Config{
		Recognizer: env.recognizer,
		URL:        ac.URL,
		Method:     ac.Method,
		AuthToken:  ac.AuthToken,
		AccountSid: ac.AccountSid,
		Timeout:    ac.Timeout.D(),
		Logger:     log,

		StatusCallback:       ac.StatusCallback,
		StatusCallbackMethod: ac.StatusCallbackMethod,
	}
	if es, err := speech.NewEspeak(); err == nil {
		cfg.Synthesizer = speech.NewCache(es, 256)
	} else {
		log.Warn("espeak-ng not found: <Say> will be skipped", "error", err)
	}
	cfg.Fallback = fallbackAgent(ac.Fallback, env.agents)
	cfg.Stream = streamFunc(ac.AccountSid, log)
	return twiml.New(cfg)
}

// fallbackAgent is the agent named name, looked up when a call needs it,
// so that agents may name each other in any order (Validate has ruled
// out circles); nil for no name.
func fallbackAgent(name string, agents map[string]agent.Agent) agent.Agent {
	if name == "" {
		return nil
	}
	return agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		return agents[name].Serve(ctx, call)
	})
}

// streamFunc runs TwiML's <Connect><Stream> with package stream. A
// stream's AccountSid must look like Twilio's (AC and 32 hex digits);
// any other account name leaves the stream's default.
func streamFunc(accountSid string, log *slog.Logger) twiml.StreamFunc {
	if len(accountSid) != 34 || !strings.HasPrefix(accountSid, "AC") {
		accountSid = ""
	}
	return func(ctx context.Context, call agent.Call, u string, params map[string]string) error {
		_, err := stream.Run(ctx, call, stream.Options{URL: u, Parameters: params, AccountSid: accountSid, Logger: log})
		return err
	}
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

// buildVoiceflow builds a Voiceflow Dialog Manager agent. Speech comes
// from espeak-ng when Voiceflow sends no audio; without a recognizer the
// caller is heard through key presses only.
func buildVoiceflow(ac config.Agent, env *agentEnv, log *slog.Logger) (agent.Agent, error) {
	cfg := voiceflow.Config{
		Runtime:      ac.Runtime,
		APIKey:       ac.APIKey,
		VersionID:    ac.VersionID,
		UserID:       ac.UserID,
		TTS:          ac.TTS == nil || *ac.TTS,
		StripSSML:    ac.StripSSML,
		ExcludeTypes: ac.ExcludeTypes,
		Timeout:      ac.Timeout.D(),
		NoInput:      ac.NoInput.D(),
		NoInputEvent: ac.NoInputEvent,
		DTMFAsText:   ac.DTMFAsText,
		ForwardTo:    ac.ForwardTemplate,
		Apology:      ac.Apology,
		Fallback:     fallbackAgent(ac.Fallback, env.agents),
		Recognizer:   env.recognizer,
		Logger:       log,
	}
	if es, err := speech.NewEspeak(); err == nil {
		cfg.Synthesizer = speech.NewCache(es, 256)
	} else {
		log.Warn("espeak-ng not found: text without Voiceflow audio will not be spoken", "error", err)
	}
	cfg.TwiML = twiml.Config{Synthesizer: cfg.Synthesizer, Recognizer: env.recognizer, Stream: streamFunc("", log), Logger: log}
	return voiceflow.New(cfg)
}

// buildRecognizer makes the speech recognizer agents share, or nil for
// none. A recognizer that cannot work here (pocketsphinx not installed)
// stops start-up rather than fail on the first call.
func buildRecognizer(sc config.Speech, log *slog.Logger) (speech.Recognizer, error) {
	switch sc.Recognizer {
	case "pocketsphinx":
		return speech.NewPocketsphinx(speech.WithPocketsphinxLogger(log.With("component", "pocketsphinx")))
	case "deepgram":
		return deepgram.New(deepgram.Config{
			APIKey:   sc.Deepgram.APIKey,
			Model:    sc.Deepgram.Model,
			Language: sc.Deepgram.Language,
			URL:      sc.Deepgram.URL,
			Logger:   log.With("component", "deepgram"),
		})
	}
	return nil, nil
}
