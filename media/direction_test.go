package media

import "testing"

func TestDirection(t *testing.T) {
	tests := []struct {
		d             Direction
		send, receive bool
		name          string
	}{
		{SendRecv, true, true, "sendrecv"},
		{SendOnly, true, false, "sendonly"},
		{RecvOnly, false, true, "recvonly"},
		{Inactive, false, false, "inactive"},
	}
	for _, tt := range tests {
		if tt.d.Sends() != tt.send || tt.d.Receives() != tt.receive || tt.d.String() != tt.name || !tt.d.Valid() {
			t.Errorf("%v: sends %v receives %v", tt.d, tt.d.Sends(), tt.d.Receives())
		}
	}
	if Direction(9).Valid() || Direction(9).String() != "invalid" {
		t.Error("Direction(9) is valid")
	}
	var zero Direction
	if zero != SendRecv {
		t.Error("zero Direction is not SendRecv")
	}
}
