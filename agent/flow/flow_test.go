package flow

import "testing"

func TestRoute(t *testing.T) {
	gather := &step{next: "next", branch: map[string]string{"1": "one", "#9": "pound9"}, onDefault: "other", onTimeout: "silent"}
	bare := &step{next: "next", branch: map[string]string{"1": "one"}}
	transfer := &step{next: "next", onFailure: "failover"}
	tests := []struct {
		name string
		st   *step
		o    outcome
		want string
	}{
		{"digits", gather, outcome{gathered: true, digits: "1"}, "one"},
		{"symbols", gather, outcome{gathered: true, digits: "#9"}, "pound9"},
		{"default", gather, outcome{gathered: true, digits: "2"}, "other"},
		{"timeout", gather, outcome{gathered: true}, "silent"},
		{"no default", bare, outcome{gathered: true, digits: "2"}, "next"},
		{"no timeout", bare, outcome{gathered: true}, "next"},
		{"transfer ok", transfer, outcome{waited: true}, "next"},
		{"transfer failed", transfer, outcome{failed: true}, "failover"},
		{"failed without on_failure", bare, outcome{failed: true}, "next"},
	}
	for _, tt := range tests {
		if got := tt.st.route(tt.o); got != tt.want {
			t.Errorf("%s: route = %q, want %q", tt.name, got, tt.want)
		}
	}
}
