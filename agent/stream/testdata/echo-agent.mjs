// echo-agent.mjs: a Twilio Media Streams agent written independently of
// sipagent, on the `ws` library, for the stream package's tests
// (node_test.go). Because neither its WebSocket nor its JSON handling
// shares code with the Go package, it checks our wire format the way a
// real agent (Pipecat, a Twilio demo app) would see it.
//
// Usage: node echo-agent.mjs <port>   (0 picks a free port)
//
// It prints "listening <port>", then serves one stream: it checks every
// message against the protocol, echoes each media payload straight back,
// sends a mark named "one-second" once it has echoed 1 s of audio, and
// exits when the stream's socket closes. Every event it gets is logged
// on stdout as one JSON line; anything wrong is logged as
// {"event":"error","error":"..."}.
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const wss = new WebSocketServer({ host: '127.0.0.1', port });

const log = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const fail = (error) => log({ event: 'error', error });

wss.on('listening', () => {
  process.stdout.write(`listening ${wss.address().port}\n`);
});

wss.on('connection', (ws) => {
  let streamSid = null;
  let callSid = null;
  let accountSid = null;
  let lastSeq = 0;
  let lastChunk = 0;
  let lastTimestamp = -1;
  let echoed = 0;
  let markSent = false;
  let first = true;

  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      fail('binary message');
      return;
    }
    let msg;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch (e) {
      fail(`not JSON: ${e.message}`);
      return;
    }
    if (first && msg.event !== 'connected') fail(`first message is ${msg.event}, not connected`);
    first = false;
    if (msg.event !== 'connected') {
      const seq = Number(msg.sequenceNumber);
      if (typeof msg.sequenceNumber !== 'string' || seq !== lastSeq + 1) {
        fail(`${msg.event}: sequenceNumber ${JSON.stringify(msg.sequenceNumber)} after ${lastSeq}`);
      }
      lastSeq = seq;
      if (msg.event !== 'start' && msg.streamSid !== streamSid) {
        fail(`${msg.event}: streamSid ${msg.streamSid}, want ${streamSid}`);
      }
    }

    switch (msg.event) {
      case 'connected':
        if (msg.protocol !== 'Call' || msg.version !== '1.0.0') fail(`connected: ${JSON.stringify(msg)}`);
        log({ event: 'connected' });
        break;

      case 'start': {
        const s = msg.start ?? {};
        streamSid = msg.streamSid;
        callSid = s.callSid;
        accountSid = s.accountSid;
        if (!/^MZ[0-9a-f]{32}$/.test(streamSid) || s.streamSid !== streamSid) fail(`start: streamSid ${streamSid} / ${s.streamSid}`);
        if (!/^CA[0-9a-f]{32}$/.test(callSid)) fail(`start: callSid ${callSid}`);
        if (!/^AC[0-9a-f]{32}$/.test(accountSid)) fail(`start: accountSid ${accountSid}`);
        if (JSON.stringify(s.tracks) !== '["inbound"]') fail(`start: tracks ${JSON.stringify(s.tracks)}`);
        const f = s.mediaFormat ?? {};
        if (f.encoding !== 'audio/x-mulaw' || f.sampleRate !== 8000 || f.channels !== 1) {
          fail(`start: mediaFormat ${JSON.stringify(f)}`);
        }
        log({ event: 'start', streamSid, callSid, customParameters: s.customParameters });
        break;
      }

      case 'media': {
        const m = msg.media ?? {};
        const chunk = Number(m.chunk);
        const timestamp = Number(m.timestamp);
        if (m.track !== 'inbound') fail(`media: track ${m.track}`);
        if (typeof m.chunk !== 'string' || chunk !== lastChunk + 1) fail(`media: chunk ${m.chunk} after ${lastChunk}`);
        if (typeof m.timestamp !== 'string' || !Number.isInteger(timestamp) || timestamp <= lastTimestamp) {
          fail(`media: timestamp ${m.timestamp} after ${lastTimestamp}`);
        }
        lastChunk = chunk;
        lastTimestamp = timestamp;
        const audio = Buffer.from(m.payload ?? '', 'base64');
        if (audio.toString('base64') !== m.payload) fail('media: payload is not canonical base64');
        if (audio.length !== 160) fail(`media: ${audio.length} bytes, want 160 (20 ms)`);
        log({ event: 'media', chunk, timestamp, bytes: audio.length });

        ws.send(JSON.stringify({ event: 'media', streamSid, media: { payload: m.payload } }));
        echoed += audio.length;
        if (!markSent && echoed >= 8000) {
          markSent = true;
          ws.send(JSON.stringify({ event: 'mark', streamSid, mark: { name: 'one-second' } }));
        }
        break;
      }

      case 'dtmf':
        if (msg.dtmf?.track !== 'inbound_track') fail(`dtmf: track ${msg.dtmf?.track}`);
        log({ event: 'dtmf', digit: msg.dtmf?.digit });
        break;

      case 'mark':
        log({ event: 'mark', name: msg.mark?.name });
        break;

      case 'stop':
        if (msg.stop?.callSid !== callSid || msg.stop?.accountSid !== accountSid) fail(`stop: ${JSON.stringify(msg.stop)}`);
        log({ event: 'stop' });
        break;

      default:
        fail(`unknown event ${msg.event}`);
    }
  });

  ws.on('close', (code) => {
    log({ event: 'closed', code });
    wss.close(() => process.exit(0));
  });
});
