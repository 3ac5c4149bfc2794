// Failover alert: forwards one failover event to the alerts webhook of lines.yaml.
// Rendered by infra/render/functions.py from infra/templates/alert.js: edit the template,
// not a rendered copy.
//
// The Studio flow calls this first, before the caller is served, so it must be quick
// whatever the webhook does: the POST is abandoned after TIMEOUT_MS, and this Function
// always answers 200 so the flow carries on. The webhook receives JSON:
//   {"event": "failover", "line", "number", "caller", "call_sid", "error_code",
//    "error_url", "time"}
// error_code/error_url are Twilio's ErrorCode/ErrorUrl of the failed primary request
// (empty when the flow runs as the primary, in failover test mode).
'use strict';

const WEBHOOK_URL = "https://hooks.acme.example/failover";
const TIMEOUT_MS = 1500;

exports.handler = async (context, event, callback) => {
  const alert = {
    event: 'failover',
    line: event.line || '',
    number: event.number || '',
    caller: event.caller || '',
    call_sid: event.call_sid || '',
    error_code: event.error_code || '',
    error_url: event.error_url || '',
    time: new Date().toISOString(),
  };
  let delivered = false;
  try {
    const response = await fetch(WEBHOOK_URL, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(alert),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    delivered = response.ok;
  } catch (err) {
    console.error('alert not delivered for line', alert.line, String(err));
  }
  return callback(null, { delivered: delivered });
};
