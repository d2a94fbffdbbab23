package sip_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media"
	"github.com/sipagent/sipagent/transfer"
)

// sippTarget runs sipp as a forwarding target (a UAS) on 127.0.0.1 and
// returns its URI; sipp's exit status is checked when the test ends.
func sippTarget(t *testing.T, scenario string, extra ...string) string {
	t.Helper()
	return sippTargetIn(t, t.TempDir(), scenario, extra...)
}

// sippTargetIn is sippTarget running in dir, where rtp_stream finds its
// files.
func sippTargetIn(t *testing.T, dir, scenario string, extra ...string) string {
	t.Helper()
	scen, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	port := freePortOn(t, "udp", "127.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	args := append([]string{"-sf", scen, "-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", strconv.Itoa(port), "-mp", strconv.Itoa(freeEvenPortPair(t)),
		"-m", "1", "-timeout", "30s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, sippErrorLog)}, extra...)
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir = dir
	out := make(chan error, 1)
	var output []byte
	go func() {
		var err error
		output, err = cmd.CombinedOutput()
		out <- err
	}()
	t.Cleanup(func() {
		defer cancel()
		select {
		case err := <-out:
			if err != nil {
				s, _ := sippOutput(output, err, dir)
				t.Errorf("sipp target %s: %v\n%s", scenario, err, s)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("sipp target %s did not finish", scenario)
			cancel()
			t.Logf("sipp target killed: %v", <-out)
		}
	})
	// sipp binds at start; a call sent before that is retransmitted.
	return "sip:sales@127.0.0.1:" + strconv.Itoa(port)
}

// transferAgent asks for a transfer of every call and reports the result.
func transferAgent(target, mode string, results chan<- agent.TransferResult) agent.Agent {
	return transferAgentTimeout(target, mode, 0, results)
}

func transferAgentTimeout(target, mode string, timeout time.Duration, results chan<- agent.TransferResult) agent.Agent {
	return transferAgentReq(agent.TransferRequest{Target: target, Mode: mode, Timeout: timeout}, results)
}

// transferAgentReq asks for req on every call and reports the result.
func transferAgentReq(req agent.TransferRequest, results chan<- agent.TransferResult) agent.Agent {
	return agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		res, err := call.Transfer(ctx, req)
		if err != nil {
			res.Status = "error: " + err.Error()
		}
		results <- res
		return nil
	})
}

// A bridged call carries audio both ways: baresip's microphone goes to
// the target (sipp, echoing RTP) and comes back, through both legs, to
// baresip's ears; PCMU on the caller's leg, the target's codec on its.
func TestBridgeAudioBothWays(t *testing.T) {
	for _, target := range []media.Codec{media.PCMU, media.PCMA} {
		t.Run("target "+target.Name, func(t *testing.T) {
			ctx := baresipContext(t)
			uri := sippTarget(t, "uas_answer.xml", "-rtp_echo",
				"-key", "codec", strconv.Itoa(int(target.PayloadType)), "-key", "codecname", target.Name)
			results := make(chan agent.TransferResult, 1)
			srv := startServer(t, map[string]agent.Agent{"xfer": transferAgent(uri, "bridge", results)},
				withTransfer(t, "sip:sales@127.0.0.1"))
			signal := testSignal()
			mic := append(make([]int16, samples(500*time.Millisecond)), signal...)
			mic = append(mic, make([]int16, samples(time.Second))...)
			ph := startBaresip(t, ctx, phoneConfig{Dial: dialURI(srv, "xfer"), Codecs: "PCMU", Mic: mic})
			ph.mustWait(t, ctx, "terminated") // the microphone ended: baresip hung up
			var res agent.TransferResult
			select {
			case res = <-results:
			case <-ctx.Done():
				t.Fatal("no transfer result")
			}
			if res.Status != "completed" || res.SIPCode != 200 {
				t.Errorf("bridge result %+v, want completed 200", res)
			}
			waitIdle(t, srv)
			ph.quit(t, ctx)
			got := ph.heard(t)
			piece := g711(target, g711(media.PCMU, signal))[samples(200*time.Millisecond):samples(700*time.Millisecond)]
			corr, lag := bestCorrelation(got, piece)
			t.Logf("baresip heard its own voice back through the bridge: correlation %.3f at %.3f s", corr, float64(lag)/media.SampleRate)
			if corr < 0.9 {
				t.Errorf("audio did not make the round trip through the bridge: correlation %.3f", corr)
			}
		})
	}
}

// A busy or unanswering target returns the call to the agent with
// DialCallStatus busy or no-answer; the caller is still there.
func TestBridgeBusyAndNoAnswer(t *testing.T) {
	tests := []struct {
		scenario string
		timeout  time.Duration
		status   string
		code     int
	}{
		{"uas_busy.xml", 0, "busy", 486},
		{"uas_noanswer.xml", time.Second, "no-answer", 0}, // CANCEL after the ring timeout
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			uri := sippTarget(t, tt.scenario)
			results := make(chan agent.TransferResult, 1)
			srv := startServer(t, map[string]agent.Agent{"xfer": transferAgentTimeout(uri, "bridge", tt.timeout, results)},
				withTransfer(t, "sip:sales@127.0.0.1"))
			out, err := runSipp(t, srv, sippRun{Scenario: "uac_wait_bye.xml", User: "xfer"})
			if err != nil {
				t.Fatalf("caller: %v\n%s", err, out)
			}
			res := <-results
			if res.Status != tt.status || res.SIPCode != tt.code {
				t.Errorf("result %+v, want %s %d", res, tt.status, tt.code)
			}
			waitIdle(t, srv)
		})
	}
}

// In auto mode a caller that refuses REFER (405) is bridged instead: the
// target answers, talks, hangs up, and the caller's call goes back to the
// agent, which ends it.
func TestAutoFallsBackToBridge(t *testing.T) {
	uri := sippTarget(t, "uas_answer_bye.xml")
	results := make(chan agent.TransferResult, 1)
	srv := startServer(t, map[string]agent.Agent{"xfer": transferAgent(uri, "auto", results)},
		withTransfer(t, "sip:sales@127.0.0.1"))
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_refuse_refer.xml", User: "xfer"}); err != nil {
		t.Fatalf("caller: %v\n%s", err, out)
	}
	if res := <-results; res.Status != "completed" || res.SIPCode != 200 {
		t.Errorf("result %+v, want completed through the bridge", res)
	}
	waitIdle(t, srv)
}

// Key presses cross the bridge: the caller's 3 (RFC 4733 from sipp)
// reaches the target, another sipagent whose agent hangs up on it, which
// ends the bridge and returns the call to the transferring agent.
func TestBridgeRelaysDTMF(t *testing.T) {
	got := make(chan rune, 1)
	keyTaker := agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		select {
		case d := <-call.DTMF():
			got <- d
		case <-ctx.Done():
		}
		return nil
	})
	tsrv := startServer(t, map[string]agent.Agent{"sales": keyTaker})
	results := make(chan agent.TransferResult, 1)
	uri := "sip:sales@" + tsrv.Addr("udp").String()
	srv := startServer(t, map[string]agent.Agent{"xfer": transferAgent(uri, "bridge", results)},
		withTransfer(t, "sip:sales@127.0.0.1"))
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_dtmf.xml", User: "xfer"}); err != nil {
		t.Fatalf("caller: %v\n%s", err, out)
	}
	select {
	case d := <-got:
		if d != '3' {
			t.Errorf("the target got key %q, want 3", d)
		}
	default:
		t.Error("the caller's key press did not reach the target")
	}
	if res := <-results; res.Status != "completed" {
		t.Errorf("result %+v", res)
	}
	waitIdle(t, srv)
	waitIdle(t, tsrv)
}

// A target that challenges gets the credentials <Sip username password>
// gives; wrong ones end as a failed dial with the target's 403.
func TestBridgeAnswersTargetChallenge(t *testing.T) {
	for _, tt := range []struct {
		password string
		status   string
		code     int
	}{{"pw-sales", "completed", 200}, {"wrong", "failed", 403}} {
		t.Run(tt.status, func(t *testing.T) {
			uri := sippTarget(t, "uas_auth.xml", "-key", "password", "pw-sales")
			results := make(chan agent.TransferResult, 1)
			xfer := agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
				res, err := call.Transfer(ctx, agent.TransferRequest{Target: uri, Mode: "bridge", Username: "sales", Password: tt.password})
				if err != nil {
					res.Status = "error: " + err.Error()
				}
				results <- res
				return nil
			})
			srv := startServer(t, map[string]agent.Agent{"xfer": xfer}, withTransfer(t, "sip:sales@127.0.0.1"))
			if out, err := runSipp(t, srv, sippRun{Scenario: "uac_wait_bye.xml", User: "xfer"}); err != nil {
				t.Fatalf("caller: %v\n%s", err, out)
			}
			if res := <-results; res.Status != tt.status || res.SIPCode != tt.code {
				t.Errorf("result %+v, want %s %d", res, tt.status, tt.code)
			}
			waitIdle(t, srv)
		})
	}
}

// A TwiML document, as a webhook returns it, forwards the call: the seed's
// <Dial><Sip>, with the target's credentials as <Sip> attributes.
func TestTwiMLDialForwards(t *testing.T) {
	uri := sippTarget(t, "uas_auth.xml", "-key", "password", "pw-sales")
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<Response><Dial timeout="10"><Sip username="sales" password="pw-sales">` + uri + `;region=ie1?X-Lead=42</Sip></Dial></Response>`
	results := make(chan agent.TransferResult, 1)
	twiml := agent.AgentFunc(func(ctx context.Context, call agent.Call) error {
		ins, err := transfer.ParseTwiML([]byte(doc))
		if err != nil {
			return err
		}
		res, err := call.Transfer(ctx, ins[0].Request())
		if err != nil {
			res.Status = "error: " + err.Error()
		}
		results <- res
		return nil
	})
	srv := startServer(t, map[string]agent.Agent{"app": twiml}, withTransfer(t, "sip:sales@127.0.0.1"))
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_wait_bye.xml", User: "app"}); err != nil {
		t.Fatalf("caller: %v\n%s", err, out)
	}
	if res := <-results; res.Status != "completed" || res.SIPCode != 200 {
		t.Errorf("result %+v, want completed", res)
	}
	waitIdle(t, srv)
}

// A target that sends early media (183 with SDP) before answering is
// bridged once it answers.
func TestBridgeTargetWithEarlyMedia(t *testing.T) {
	uri := sippTarget(t, "uas_early_media.xml")
	results := make(chan agent.TransferResult, 1)
	srv := startServer(t, map[string]agent.Agent{"xfer": transferAgent(uri, "bridge", results)},
		withTransfer(t, "sip:sales@127.0.0.1"))
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_wait_bye.xml", User: "xfer"}); err != nil {
		t.Fatalf("caller: %v\n%s", err, out)
	}
	if res := <-results; res.Status != "completed" || res.SIPCode != 200 {
		t.Errorf("result %+v, want completed", res)
	}
	waitIdle(t, srv)
}

// The caller's hold (a sendonly re-INVITE) and resume (sendrecv) are
// carried across the bridge: the target gets a sendonly re-INVITE, then a
// sendrecv one (the sipp target checks both offers), and the call goes on.
func TestBridgeCarriesHold(t *testing.T) {
	uri := sippTarget(t, "uas_answer_hold.xml")
	results := make(chan agent.TransferResult, 1)
	srv := startServer(t, map[string]agent.Agent{"xfer": transferAgent(uri, "bridge", results)},
		withTransfer(t, "sip:sales@127.0.0.1"))
	if out, err := runSipp(t, srv, sippRun{Scenario: "uac_hold.xml", User: "xfer"}); err != nil {
		t.Fatalf("caller: %v\n%s", err, out)
	}
	if res := <-results; res.Status != "completed" {
		t.Errorf("result %+v, want completed", res)
	}
	waitIdle(t, srv)
}
