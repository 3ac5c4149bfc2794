// Runs one deployed Twilio Function the way the Functions runtime would, for the double.
// Input (stdin, JSON): {source, context, event, internet: {url: answer}, fallback: answer}.
// Output (stdout, JSON): {error, result: {kind, status, body, headers}, requests, elapsed_ms}.
// The subset of the runtime offered: exports.handler(context, event, callback), a returned
// promise, Twilio.Response, Twilio.twiml.VoiceResponse (string building only), and a
// global fetch answered from the scripted internet (never the network). Virtual time: a
// scripted delay is added to elapsed_ms, nothing sleeps.
'use strict';

const fs = require('fs');

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const requests = [];
let elapsedMs = 0;

const realTimeout = AbortSignal.timeout.bind(AbortSignal);
AbortSignal.timeout = (ms) => {
  const signal = new AbortController().signal;
  signal.virtualTimeoutMs = ms;
  return signal;
};
void realTimeout;

globalThis.fetch = async (url, options = {}) => {
  const key = String(url).split('#')[0];
  const api = new URL(key).hostname.endsWith('.twilio.com');
  // Twilio's REST API (runtime.py): a read is answered from `api_reads` once the double
  // answered it (the Function runs again); a write gets an empty 200 and is applied after.
  const read = api && (input.api_reads || {})[key];
  const answer = read || (api ? { status: 200, body: '{}', content_type: 'application/json' }
    : input.internet[key] || input.fallback);
  requests.push({
    url: key,
    method: (options.method || 'GET').toUpperCase(),
    headers: options.headers || {},
    body: options.body === undefined ? null : String(options.body),
    api,
  });
  const limit = options.signal && options.signal.virtualTimeoutMs;
  const delayMs = (answer.delay || 0) * 1000;
  if (answer.refused) {
    throw new TypeError('fetch failed: connection refused');
  }
  if (limit !== undefined && delayMs >= limit) {
    elapsedMs += limit;
    const error = new Error('The operation was aborted due to timeout');
    error.name = 'TimeoutError';
    throw error;
  }
  elapsedMs += delayMs;
  const status = answer.status || 200;
  const nullBody = [101, 204, 205, 304].includes(status);
  return new Response(nullBody ? null : answer.body || '', {
    status,
    headers: { 'Content-Type': answer.content_type || 'text/plain' },
  });
};

class TwilioResponse {
  constructor() {
    this.statusCode = 200;
    this.body = '';
    this.headers = {};
  }
  setStatusCode(code) { this.statusCode = code; return this; }
  setBody(body) { this.body = body; return this; }
  appendHeader(name, value) { this.headers[name] = value; return this; }
  setHeaders(headers) { this.headers = { ...headers }; return this; }
}

function escapeXml(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

class TwimlNode {
  constructor(name, attributes, text) {
    this.name = name;
    this.attributes = attributes || {};
    this.text = text;
    this.children = [];
  }
  add(name, attributes, text) {
    if (typeof attributes === 'string') { text = attributes; attributes = {}; }
    const child = new TwimlNode(name, attributes, text);
    this.children.push(child);
    return child;
  }
  render() {
    const attrs = Object.entries(this.attributes)
      .map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('');
    const inner = (this.text !== undefined ? escapeXml(this.text) : '')
      + this.children.map((c) => c.render()).join('');
    return inner ? `<${this.name}${attrs}>${inner}</${this.name}>` : `<${this.name}${attrs}/>`;
  }
}

const VERBS = ['say', 'play', 'pause', 'record', 'dial', 'enqueue', 'redirect', 'hangup',
  'leave', 'reject', 'gather', 'number', 'task', 'queue'];

class VoiceResponse extends TwimlNode {
  constructor() { super('Response'); }
  toString() { return '<?xml version="1.0" encoding="UTF-8"?>' + this.render(); }
}
for (const verb of VERBS) {
  const name = verb.charAt(0).toUpperCase() + verb.slice(1);
  TwimlNode.prototype[verb] = function (attributes, text) { return this.add(name, attributes, text); };
}

globalThis.Twilio = { Response: TwilioResponse, twiml: { VoiceResponse } };

function settle(error, result) {
  let out;
  if (error) {
    out = { kind: 'error', status: 500, body: String(error), headers: {} };
  } else if (result instanceof VoiceResponse) {
    out = { kind: 'twiml', status: 200, body: result.toString(), headers: { 'Content-Type': 'text/xml' } };
  } else if (result instanceof TwilioResponse) {
    const body = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
    out = { kind: 'response', status: result.statusCode, body, headers: result.headers };
  } else if (typeof result === 'string') {
    out = { kind: 'text', status: 200, body: result, headers: { 'Content-Type': 'text/plain' } };
  } else {
    out = { kind: 'json', status: 200, body: JSON.stringify(result === undefined ? null : result),
      headers: { 'Content-Type': 'application/json' } };
  }
  process.stdout.write(JSON.stringify({ error: null, result: out, requests, elapsed_ms: elapsedMs }));
  process.exit(0);
}

const module_ = { exports: {} };
try {
  new Function('exports', 'module', 'require', input.source)(module_.exports, module_, require);
  const returned = module_.exports.handler(input.context, input.event, settle);
  if (returned && typeof returned.then === 'function') {
    returned.catch((error) => settle(error));
  }
} catch (error) {
  settle(error);
}
