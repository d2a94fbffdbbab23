// Package api is sipagent's live-call REST API, shaped like Twilio's
// Calls resource so that applications written for Twilio (and Twilio's
// client libraries, pointed at sipagent's address) can see and steer the
// calls sipagent carries:
//
//	GET  /2010-04-01/Accounts/{AccountSid}/Calls.json            list calls
//	POST /2010-04-01/Accounts/{AccountSid}/Calls.json            place a call
//	GET  /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json  fetch one
//	POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json  update one
//
// An update hands a live call to new TwiML (Twiml= or Url=), which is
// how an application redirects or transfers a call while a media stream
// runs, or hangs it up (Status=completed). A created call goes to a SIP
// URI the transfer allow-list lets calls go to, or to a softphone
// registered to sipagent (client:NAME), and runs TwiML once answered.
//
// Every request needs HTTP basic auth with the account SID and auth
// token. The list pages as Twilio's does (PageSize, Page). The API keeps
// no call history: calls that have ended are gone from it, and there are
// no recordings or conferences. A StatusCallback given with TwiML is the
// TwiML agent's (ringing, answered, completed).
// It is not a TwiML runner either; package twiml is, and this package
// only builds twiml agents and hands them to the SIP server.
package api
