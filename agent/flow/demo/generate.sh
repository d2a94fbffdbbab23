#!/bin/sh
# generate.sh regenerates the demo flow's prompts (the WAV files beside it)
# with espeak-ng and sox, as 8 kHz 16-bit mono PCM. Run it after changing
# a prompt's text below, from any directory:
#
#	agent/flow/demo/generate.sh
#
# The WAV files are committed, so building or running sipagent needs
# neither tool. Dither is off so that runs are repeatable.
set -eu

cd "$(dirname "$0")"
voice=en-us
speed=150
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# prompt NAME TEXT writes NAME.wav saying TEXT.
prompt() {
	espeak-ng -v "$voice" -s "$speed" -w "$tmp/$1.wav" "$2"
	sox -V1 -D "$tmp/$1.wav" -r 8000 -c 1 -b 16 -e signed-integer "$1.wav"
}

# "sip agent" in two words, so espeak-ng does not spell it out.
prompt greeting "Welcome to sip agent."
prompt menu "Press 1 for an echo test. Press 2 to forward your call. Press 3 to hang up."
prompt invalid "Sorry, that is not a valid choice."
prompt echo "Echo test. Speak and you will hear yourself. Press pound to return to the menu."
prompt not_configured "Forwarding is not configured on this server."
prompt goodbye "Goodbye."
