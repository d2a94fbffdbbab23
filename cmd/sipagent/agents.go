package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/agent/echo"
	"github.com/sipagent/sipagent/agent/flow"
	"github.com/sipagent/sipagent/agent/speech"
	"github.com/sipagent/sipagent/agent/speech/deepgram"
	"github.com/sipagent/sipagent/agent/stream"
	"github.com/sipagent/sipagent/agent/twiml"
	"github.com/sipagent/sipagent/agent/voiceflow"
	"github.com/sipagent/sipagent/cmd/sipagent/config"
)

// The agents a configuration names, built for build: one function per
// kind, and what they share.

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
