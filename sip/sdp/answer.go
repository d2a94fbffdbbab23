package sdp

import (
	"github.com/sipagent/sipagent/media"
)

// ParseAnswer reads the peer's answer to our Offer (RFC 3264 section 7)
// and returns the negotiated Media. offered are the codecs we offered.
//
// The codec is the first format of the answer's first usable audio section
// that is one of offered, with the payload type the answer gives it. Our
// direction is the answer's reversed: an answer of recvonly to our
// sendrecv means we send only. The error, an *Error, says what made the
// answer unusable; its Code matters little, since an answer in a 200 OK
// or ACK cannot be refused, only followed by a BYE.
func ParseAnswer(answer []byte, offered []media.Codec) (Media, error) {
	sd, err := parse(answer)
	if err != nil {
		return Media{}, err
	}
	if len(offered) == 0 {
		offered = media.Codecs
	}
	_, c, err := chooseStream(sd, func(formats []rtpFormat) (media.Codec, rtpFormat, bool) {
		return chooseByFormats(formats, offered)
	}, offered)
	if err != nil {
		return Media{}, err
	}
	return c.media, nil
}
