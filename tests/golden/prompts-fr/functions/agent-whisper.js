// The whisper on an agent's leg: what the agent hears when they pick up a queued call.
// Rendered by infra/render/functions.py from infra/templates/agent-whisper.js: edit the
// template, not a rendered copy. Values below come from lines.yaml.
//
// The /assignment Function answers each reservation with a TaskRouter `call` instruction
// whose `url` is this Function: Twilio runs it on the agent's leg once the agent's phone
// answers ("A valid TwiML URI that is executed on the answering Worker's leg",
// twilio-taskrouter.js `Reservation.call`; Twilio's OpenAPI, Reservation `CallUrl`).
// - First request: the line's `prompts.agent_call` (English: "Call for <line> from <caller>.
//   Press 1 to accept.", in the line's language and voice) in a `<Gather
//   numDigits="1">`, then `<Hangup/>`. With no key within WHISPER_GATHER_S seconds Twilio
//   goes on to the next verb (https://www.twilio.com/docs/voice/twiml/gather), so a phone's
//   own voicemail, an unattended phone or a pocket answer hangs up and never takes the
//   caller; /agent-status then rejects the reservation and the caller stays queued for the
//   next agent.
// - Digits=1 (the Gather's `action`): `<Dial><Queue reservationSid>` bridges the queued
//   caller and accepts the pending reservation ("When the dequeue succeeds, Twilio bridges
//   the worker to the queued caller and marks the pending Reservation as accepted",
//   https://www.twilio.com/docs/api/errors/14215). If the caller has gone in the meantime
//   the dial fails and the leg ends.
// - any other key: declined, `<Hangup/>` (same as no key).
// The caller's number is spoken digit by digit (a new outbound call may only show a Twilio
// or verified number as caller ID, docs/design/queue.md D9); the line's `prompts.withheld`
// ("a withheld number") when the caller withheld it. Requests are Voice requests, signed,
// so this Function stays `protected`. It makes no REST call.
'use strict';

// Per queued line: display name, the voice of the line's prompts, the whisper's text.
const LINES = {
  "paris": {
    "call": "Appel pour {line} de {caller}. Appuyez sur 1 pour r\u00e9pondre.",
    "language": "fr-FR",
    "name": "Support Paris",
    "voice": "Polly.Celine",
    "withheld": "un num\u00e9ro masqu\u00e9"
  }
};
const WHISPER_GATHER_S = 6;
const WHISPER_PATH = "/agent-whisper";
const ACCEPT_DIGIT = '1';

function spoken(caller, withheld) {
  // E.164 digits read one by one. What Twilio puts in `From` for a withheld number is
  // assumed ("anonymous", or "+266696687", which spells ANONYMOUS): unconfirmed; if it is
  // something else the agent hears those digits instead of `withheld`.
  const digits = String(caller || '').replace(/[^0-9]/g, '');
  if (digits.length < 5 || digits === '266696687') {
    return withheld;
  }
  return digits.split('').join(' ');
}

function isSid(value, prefix) {
  return typeof value === 'string' && value.length === 34 && value.startsWith(prefix);
}

exports.handler = (context, event, callback) => {
  const twiml = new Twilio.twiml.VoiceResponse();
  const line = LINES[event.line];
  if (!line || !isSid(event.reservation, 'WR')) {
    twiml.hangup();
    return callback(null, twiml);
  }
  if (event.Digits === undefined) {
    const query = new URLSearchParams({
      workspace: event.workspace || '',
      task: event.task || '',
      reservation: event.reservation,
      line: event.line,
    });
    const gather = twiml.gather({
      numDigits: 1,
      timeout: WHISPER_GATHER_S,
      action: 'https://' + context.DOMAIN_NAME + WHISPER_PATH + '?' + query.toString(),
      method: 'POST',
    });
    gather.say(
      { voice: line.voice, language: line.language },
      // Replacer functions: a `$` in a line's name is not a replacement pattern.
      line.call
        .replace('{line}', () => line.name)
        .replace('{caller}', () => spoken(event.caller, line.withheld)),
    );
    twiml.hangup();
    return callback(null, twiml);
  }
  if (event.Digits === ACCEPT_DIGIT) {
    twiml.dial().queue({ reservationSid: event.reservation });
    return callback(null, twiml);
  }
  twiml.hangup();
  return callback(null, twiml);
};
