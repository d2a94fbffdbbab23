package transfer_test

import (
	"fmt"

	"github.com/sipagent/sipagent/transfer"
)

func ExampleParseTwiML() {
	doc := `<Response>
  <Dial timeout="20" answerOnBridge="true">
    <Sip username="agent" password="secret">sip:sales@example.com;region=ie1?X-Ticket=42</Sip>
  </Dial>
</Response>`
	ins, err := transfer.ParseTwiML([]byte(doc))
	if err != nil {
		fmt.Println(err)
		return
	}
	t := ins[0].Target
	fmt.Println(ins[0].Verb, t.Mode, t, t.Timeout, t.AnswerOnBridge)
	fmt.Println(t.ReferTo())
	// Output:
	// Dial bridge sip:sales@example.com;region=ie1 20s true
	// <sip:sales@example.com?X-Ticket=42>
}

func ExamplePolicy_Allow() {
	policy, err := transfer.NewPolicy([]string{"sip:*@example.com", "*.pbx.example.net"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, uri := range []string{
		"sip:sales@example.com",
		"sips:desk@a.pbx.example.net:5061",
		"sip:sales@example.com.evil.com",
		"sip:sales@evil.com;host=example.com",
	} {
		t, err := transfer.ParseTarget(uri)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if err := policy.Allow(t); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println("allowed", t)
	}
	// Output:
	// allowed sip:sales@example.com
	// allowed sips:desk@a.pbx.example.net:5061
	// transfer: sip:sales@example.com.evil.com is not in transfer.allow
	// transfer: sip:sales@evil.com;host=example.com is not in transfer.allow
}
