package sip

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/sipagent/sipagent/agent"
)

// named is an agent that only has a name, to tell routes apart.
type named string

func (named) Serve(context.Context, agent.Call) error { return nil }

func TestRoutes(t *testing.T) {
	routes := Routes{
		{User: "echo", Agent: named("echo")},
		{User: "sales-*", Agent: named("sales")},
		{From: "sip:+1555*", Agent: named("us")},
		{Source: netip.MustParsePrefix("192.0.2.0/24"), Agent: named("trunk")},
		{User: "vip", Source: netip.MustParsePrefix("198.51.100.0/24"), Agent: named("vip")},
	}
	if err := routes.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ruri, from, source string
		want                     string // "" = no route
	}{
		{"user exact", "sip:echo@sipagent.test", "sip:a@b", "203.0.113.1:5060", "echo"},
		{"user with port and params", "sip:echo@10.0.0.1:5060;transport=udp", "sip:a@b", "203.0.113.1:5060", "echo"},
		{"user glob", "sip:sales-eu@x", "sip:a@b", "203.0.113.1:5060", "sales"},
		{"glob needs its prefix", "sip:sales@x", "sip:a@b", "203.0.113.1:5060", ""},
		{"from glob", "sip:other@x", "sip:+15551234@carrier", "203.0.113.1:5060", "us"},
		{"source CIDR", "sip:other@x", "sip:a@b", "192.0.2.77:5060", "trunk"},
		{"v4-mapped source", "sip:other@x", "sip:a@b", "[::ffff:192.0.2.77]:5060", "trunk"},
		{"all conditions must hold", "sip:vip@x", "sip:a@b", "203.0.113.1:5060", ""},
		{"all conditions hold", "sip:vip@x", "sip:a@b", "198.51.100.9:5060", "vip"},
		{"first match wins", "sip:echo@x", "sip:+15550000@b", "192.0.2.1:5060", "echo"},
		{"no user in the URI", "sip:x.example", "sip:a@b", "203.0.113.1:5060", ""},
		{"unparseable URI", "not a uri", "sip:a@b", "203.0.113.1:5060", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := agent.Info{RequestURI: tt.ruri, From: tt.from, Source: netip.MustParseAddrPort(tt.source)}
			a, err := routes.Route(info)
			if tt.want == "" {
				if !errors.Is(err, ErrNoRoute) {
					t.Errorf("got %v, %v; want ErrNoRoute", a, err)
				}
				return
			}
			if err != nil || a != named(tt.want) {
				t.Errorf("got %v, %v; want %s", a, err, tt.want)
			}
		})
	}
}

func TestRoutesValidate(t *testing.T) {
	if err := (Routes{{User: "[", Agent: named("x")}}).Validate(); err == nil {
		t.Error("a bad glob passed")
	}
	if err := (Routes{{User: "x"}}).Validate(); err == nil {
		t.Error("a route without an agent passed")
	}
}
