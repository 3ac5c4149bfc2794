// Hold document of the call queues: the `wait_url` of every queue flow's enqueue step.
// Rendered by infra/render/functions.py from infra/templates/queue-wait.js: edit the
// template, not a rendered copy. Values below come from lines.yaml.
//
// Twilio requests the wait URL when the caller enters the queue and again each time the
// document it returned has run out, with `QueueTime` (seconds in the queue), so every
// cycle decides anew (https://www.twilio.com/docs/voice/twiml/enqueue, waitUrl):
// - nobody On Duty serves the line → "nobody can take your call" and `<Leave/>`: the flow
//   sends the caller to the line's voicemail within seconds, not after the queue timeout.
//   With nobody on duty at the start that is the first request; when the last agent goes
//   Off Duty mid-hold, the current cycle ends first (at most HOLD_CHUNK_S more).
// - the line's queue timeout reached → `<Leave/>` (voicemail), as before.
// - else the hold prompt and a pause of HOLD_CHUNK_S (shorter near the timeout).
// `<Leave/>` takes the caller out of the queue and ends the enqueue with
// QueueResult=leave (https://www.twilio.com/docs/voice/twiml/leave); canceling the task
// would not release the caller.
// "On Duty serving the line": a TaskRouter worker listed with `Available=true` and
// `TaskQueueName=<line id>` (the line's queue; Twilio's OpenAPI, Workers list filters
// `Available` and `TaskQueueName`: "The `friendly_name` of the TaskQueue that the Workers to
// read are eligible for."). A busy agent still counts (the caller waits for them). When TaskRouter cannot
// be read the caller keeps holding, still bounded by the queue timeout.
// Requests are Voice requests, signed, so this Function stays `protected`.
'use strict';

// Per queued line: queue timeout, the voice and language of the line's prompts, and their
// texts in that language (`hold`, `still_holding`, `nobody`; infra/lines/prompts.py).
const LINES = {
  "main": {
    "hold": "Please hold for the next available agent.",
    "language": "en-US",
    "nobody": "Nobody can take your call right now.",
    "still_holding": "Please continue to hold.",
    "timeout": 180,
    "voice": "Polly.Joanna"
  }
};
const WORKSPACE_NAME = "acme-failover";
const HOLD_CHUNK_S = 20;
const API = 'https://taskrouter.twilio.com/v1/Workspaces';

async function get(context, url) {
  // https://www.twilio.com/docs/serverless/functions-assets/functions (context.ACCOUNT_SID
  // and context.AUTH_TOKEN when the Service includes credentials, its default)
  const auth = Buffer.from(context.ACCOUNT_SID + ':' + context.AUTH_TOKEN).toString('base64');
  const response = await fetch(url, {
    headers: { Authorization: 'Basic ' + auth },
    signal: AbortSignal.timeout(3000),
  });
  if (!response.ok) {
    throw new Error('taskrouter ' + response.status);
  }
  return response.json();
}

// true / false, or null when TaskRouter could not be read.
async function anyoneOnDuty(context, lineId) {
  try {
    const spaces = await get(context, API + '?FriendlyName=' + encodeURIComponent(WORKSPACE_NAME));
    const workspace = (spaces.workspaces || [])[0];
    if (!workspace) {
      return null;
    }
    const query = 'Available=true&PageSize=1&TaskQueueName=' + encodeURIComponent(lineId);
    const page = await get(context, API + '/' + workspace.sid + '/Workers?' + query);
    return (page.workers || []).length > 0;
  } catch (err) {
    console.error('queue-wait: cannot read TaskRouter', String(err));
    return null;
  }
}

exports.handler = async (context, event, callback) => {
  const twiml = new Twilio.twiml.VoiceResponse();
  const line = LINES[event.line];
  if (!line) {
    twiml.leave();
    return callback(null, twiml);
  }
  const speak = { voice: line.voice, language: line.language };
  const waited = parseInt(event.QueueTime || '0', 10) || 0;
  const left = line.timeout - waited;
  if (left <= 0) {
    twiml.leave();
    return callback(null, twiml);
  }
  if ((await anyoneOnDuty(context, event.line)) === false) {
    twiml.say(speak, line.nobody);
    twiml.leave();
    return callback(null, twiml);
  }
  twiml.say(speak, waited < HOLD_CHUNK_S ? line.hold : line.still_holding);
  twiml.pause({ length: Math.min(HOLD_CHUNK_S, left) });
  return callback(null, twiml);
};
