// Command sipagent is a SIP endpoint for conversational agents: it answers
// calls over UDP and TCP, runs their audio through a G.711 pipeline and
// hands each call to an agent chosen by the routes in its configuration.
//
// With no --config it runs the embedded default: 127.0.0.1:5060 (UDP and
// TCP) with the demo flow answering every call.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/sipagent/sipagent/cmd/sipagent/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2 // bad flags or configuration
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sipagent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration `file` (default: the embedded demo configuration)")
	check := fs.Bool("check", false, "check the configuration and exit")
	showVersion := fs.Bool("version", false, "print the version and exit")
	printDefault := fs.Bool("print-default-config", false, "print the embedded default configuration and exit")
	pprofAddr := fs.String("pprof", "", "serve Go profiles (/debug/pprof/) on this loopback `address`, e.g. 127.0.0.1:6060")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `sipagent answers SIP calls and hands them to voice agents.

Usage: sipagent [flags]
       sipagent [--config FILE] status


With no --config, sipagent listens on udp and tcp 127.0.0.1:5060 and answers
every call with the built-in demo menu. Values in the configuration may use
${VAR} or ${VAR:-default} to read the environment.

"sipagent status" asks the sipagent running with the same configuration
(its http.listen address) for its registrations and calls.

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), `
Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 1 on a runtime
failure, 2 on bad flags or configuration.
`)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitConfig
	}
	statusCmd := fs.NArg() == 1 && fs.Arg(0) == "status"
	if fs.NArg() > 0 && !statusCmd {
		fmt.Fprintf(stderr, "sipagent: unexpected argument %q\n", fs.Arg(0))
		return exitConfig
	}
	if *showVersion {
		fmt.Fprintf(stdout, "sipagent %s\n", version)
		return exitOK
	}
	if *printDefault {
		_, _ = stdout.Write(config.Default)
		return exitOK
	}

	var cfg *config.Config
	var err error
	if *configPath == "" {
		cfg, err = config.Parse(config.Default, os.LookupEnv)
	} else {
		cfg, err = config.LoadFile(*configPath)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	if statusCmd {
		if cfg.HTTP.Listen == "" {
			fmt.Fprintln(stderr, "sipagent status: http.listen is not set in the configuration")
			return exitConfig
		}
		if err := printStatus(cfg.HTTP.Listen, stdout); err != nil {
			fmt.Fprintln(stderr, "sipagent status:", err)
			return exitFailed
		}
		return exitOK
	}
	log := newLogger(cfg.Log, stderr)
	routeSipgoDefaultLog(log)
	app, env, err := build(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	if *check {
		fmt.Fprintln(stdout, "configuration OK")
		return exitOK
	}

	if *pprofAddr != "" {
		if _, err := servePprof(*pprofAddr, log); err != nil {
			fmt.Fprintln(stderr, err)
			return exitConfig
		}
	}
	// Signals are caught from before the first socket opens: a stop
	// request that arrives during start-up still gets a clean shutdown.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := app.Start(); err != nil {
		log.Error("start failed", "error", err)
		return exitFailed
	}
	if cfg.HTTP.Listen != "" {
		liveAPI, err := buildAPI(cfg, app, env, log)
		if err != nil {
			log.Error("start failed", "error", err)
			_ = app.Close()
			return exitFailed
		}
		var apiHandler http.Handler
		if liveAPI != nil {
			apiHandler = liveAPI.Handler()
			// Before the server shuts down: calls the API is still
			// dialling are cancelled first.
			defer func() { _ = liveAPI.Close() }()
		}
		hs, err := serveStatus(cfg.HTTP.Listen, app, apiHandler, log)
		if err != nil {
			log.Error("start failed", "error", err)
			_ = app.Close()
			return exitFailed
		}
		defer func() { _ = hs.Close() }()
	}
	log.Info("sipagent started", "version", version)

	sig := <-sigs
	log.Info("stopping", "signal", sig.String(), "drain", cfg.Shutdown.Drain.D())
	signal.Stop(sigs)

	ctx, cancel := context.WithTimeout(context.Background(), cfg.Shutdown.Drain.D())
	defer cancel()
	if err := app.Shutdown(ctx); err != nil {
		log.Error("shutdown", "error", err)
		return exitFailed
	}
	log.Info("stopped")
	return exitOK
}
