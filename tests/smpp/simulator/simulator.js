'use strict';
// A small SMSC for the SMPP connector's tests, built on node-smpp's server side.
//
// It accepts binds (checking credentials), answers submit_sm with message ids, reassembles
// long messages (UDH 8/16-bit, SAR, message_payload) and sends delivery receipts whose stat
// depends on the destination number. A tiny HTTP admin port lets tests read what it saw and
// tell it to throttle, hold receipts, send MO messages or drop connections.
//
// Usage: node simulator.js [--port N] [--admin-port N] [--system-id ID] [--password PW]
// Prints one JSON line {"smpp_port": N, "admin_port": N} once both ports listen.
//
// Magic destinations (last four digits):
//   0001 UNDELIV   0002 EXPIRED   0003 REJECTD   0004 UNKNOWN   0005 DELETED
//   0006 ACCEPTD, then DELIVRD     0007 last part UNDELIV, other parts DELIVRD
//   0008 submit_sm refused with ESME_RINVDSTADR      0009 no receipt at all
//   0011 REJECTD with GSM network error 1 (unknown subscriber)
// The receipt's err: value doubles as the GSM network_error_code.
//   anything else DELIVRD

const http = require('http');
const smpp = require('smpp');

// Work on raw octets: the tests check what went over the wire, not node-smpp's decoding.
for (const name of ['submit_sm', 'deliver_sm', 'data_sm']) {
  const params = smpp.commands[name].params;
  for (const key of Object.keys(params)) delete params[key].filter;
}
delete smpp.tlvs.message_payload.filter;

const ESME = smpp.errors;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const config = {
  system_id: arg('--system-id', 'switchboard'),
  password: arg('--password', 'secret'),
  id_format: 'decimal', // submit_sm_resp ids: 'decimal' or 'hex'
  receipt_text_id_format: 'same', // receipt text id: 'same', 'decimal' (10 digits) or 'hex'
  receipt_tlvs: true, // receipted_message_id, message_state, network_error_code
  receipt_delay_ms: 30,
  hold_receipts: false, // keep receipts until POST /release
  receipt_before_resp: false, // send the receipt before the submit_sm_resp
  resp_delay_ms: 0,
  throttle_next: 0, // answer the next N submit_sm with throttle_status
  throttle_status: ESME.ESME_RTHROTTLED,
  gsm7_packed: false,
  refuse_binds: false,
};

let nextId = 70000;
let sessionSeq = 0;
const sessions = new Set();
let submits = [];
let messages = [];
let events = [];
let held = [];
const queued = []; // deliveries waiting for a receiver bind
const concat = new Map();
let maxInflight = 0;
let rr = 0;

function log(event) {
  events.push(Object.assign({ at: Date.now() }, event));
}

// --- GSM 03.38 packing --------------------------------------------------------------------

function padding(udhOctets) {
  return (7 - ((udhOctets * 8) % 7)) % 7;
}

function unpack(data, udhOctets) {
  const pad = padding(udhOctets);
  const bits = data.length * 8 - pad;
  const count = Math.floor(bits / 7);
  const out = [];
  for (let i = 0; i < count; i++) {
    const bit = pad + 7 * i;
    const byte = bit >> 3;
    const shift = bit & 7;
    let value = data[byte] >> shift;
    if (shift > 1) value |= data[byte + 1] << (8 - shift);
    out.push(value & 0x7f);
  }
  if (count * 7 === bits && (out[out.length - 1] === 0x0d || out[out.length - 1] === 0)) out.pop();
  return Buffer.from(out);
}

function pack(septets, udhOctets) {
  const pad = padding(udhOctets);
  const out = [];
  let acc = 0;
  let nbits = pad;
  for (const s of septets) {
    acc |= s << nbits;
    nbits += 7;
    while (nbits >= 8) {
      out.push(acc & 0xff);
      acc >>= 8;
      nbits -= 8;
    }
  }
  if (nbits) out.push(acc & 0xff);
  if (out.length && out.length * 8 - pad - 7 * septets.length === 7) out[out.length - 1] |= 0x0d << 1;
  return Buffer.from(out);
}

function decodeText(units, dataCoding) {
  switch (dataCoding) {
    case 0: return smpp.gsmCoder.decode(units, 0);
    case 1: return units.toString('ascii');
    case 3: return units.toString('latin1');
    case 8: return smpp.encodings.UCS2.decode(units);
    default: return units.toString('hex');
  }
}

function encodeText(text, coding) {
  if (coding === 'ucs2') return { dc: 8, data: smpp.encodings.UCS2.encode(text) };
  if (coding === 'latin1') return { dc: 3, data: Buffer.from(text, 'latin1') };
  return { dc: 0, data: smpp.gsmCoder.encode(text, 0) };
}

// --- what a submit_sm carries -------------------------------------------------------------

function readPart(pdu) {
  const payload = pdu.message_payload;
  let data = payload && payload.length ? payload : pdu.short_message || Buffer.alloc(0);
  let mode = payload && payload.length ? 'payload' : 'single';
  let ref = null;
  let total = 1;
  let seq = 1;
  let udhOctets = 0;
  if (pdu.esm_class & 0x40 && data.length) {
    const udhl = data[0];
    udhOctets = udhl + 1;
    let i = 1;
    while (i < udhOctets) {
      const iei = data[i];
      const len = data[i + 1];
      if (iei === 0x00 && len === 3) {
        mode = 'udh8'; ref = data[i + 2]; total = data[i + 3]; seq = data[i + 4];
      } else if (iei === 0x08 && len === 4) {
        mode = 'udh16'; ref = data.readUInt16BE(i + 2); total = data[i + 4]; seq = data[i + 5];
      }
      i += 2 + len;
    }
  } else if (pdu.sar_msg_ref_num !== undefined) {
    mode = 'sar'; ref = pdu.sar_msg_ref_num; total = pdu.sar_total_segments; seq = pdu.sar_segment_seqnum;
  }
  const content = data.slice(udhOctets);
  const dc = pdu.data_coding || 0;
  const units = dc === 0 && config.gsm7_packed ? unpack(content, udhOctets) : content;
  return { mode, ref, total, seq, units, dc, raw: data };
}

function record(pdu, part, id) {
  submits.push({
    message_id: id, source_addr: pdu.source_addr, destination_addr: pdu.destination_addr,
    mode: part.mode, ref: part.ref, total: part.total, seq: part.seq, data_coding: part.dc,
    esm_class: pdu.esm_class, short_message_hex: (pdu.short_message || Buffer.alloc(0)).toString('hex'),
    octets: part.raw.length,
  });
  const base = {
    from: pdu.source_addr, from_ton: pdu.source_addr_ton, from_npi: pdu.source_addr_npi,
    to: pdu.destination_addr, to_ton: pdu.dest_addr_ton, to_npi: pdu.dest_addr_npi,
    data_coding: part.dc, mode: part.mode, validity_period: pdu.validity_period,
    registered_delivery: pdu.registered_delivery, esm_class: pdu.esm_class,
    service_type: pdu.service_type,
  };
  if (part.total <= 1) {
    messages.push(Object.assign(base, { text: decodeText(part.units, part.dc), parts: 1, message_ids: [id] }));
    return;
  }
  const key = [pdu.source_addr, pdu.destination_addr, part.mode, part.ref, part.total].join('|');
  const entry = concat.get(key) || { parts: new Map(), ids: new Map() };
  concat.set(key, entry);
  entry.parts.set(part.seq, part.units);
  entry.ids.set(part.seq, id);
  if (entry.parts.size === part.total) {
    concat.delete(key);
    const order = [...entry.parts.keys()].sort((a, b) => a - b);
    const units = Buffer.concat(order.map((s) => entry.parts.get(s)));
    messages.push(Object.assign(base, {
      text: decodeText(units, part.dc), parts: part.total, message_ids: order.map((s) => entry.ids.get(s)),
    }));
  }
}

// --- receipts -----------------------------------------------------------------------------

function stamp(date) {
  const p = (n) => String(n).padStart(2, '0');
  return p(date.getUTCFullYear() % 100) + p(date.getUTCMonth() + 1) + p(date.getUTCDate()) +
    p(date.getUTCHours()) + p(date.getUTCMinutes());
}

function formatId(n) {
  return config.id_format === 'hex' ? n.toString(16).toUpperCase().padStart(8, '0') : String(n);
}

function textId(n, id) {
  switch (config.receipt_text_id_format) {
    case 'decimal': return String(n).padStart(10, '0');
    case 'hex': return n.toString(16).toUpperCase();
    default: return id;
  }
}

const STATES = { DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8 };

function stats(dest, seq, total) {
  switch (dest.slice(-4)) {
    case '0001': return [['UNDELIV', '027']];
    case '0002': return [['EXPIRED', '002']];
    case '0003': return [['REJECTD', '003']];
    case '0011': return [['REJECTD', '001']];
    case '0004': return [['UNKNOWN', '000']];
    case '0005': return [['DELETED', '000']];
    case '0006': return [['ACCEPTD', '000'], ['DELIVRD', '000']];
    case '0007': return seq === total ? [['UNDELIV', '027']] : [['DELIVRD', '000']];
    case '0009': return [];
    default: return [['DELIVRD', '000']];
  }
}

function receipts(pdu, part, n, id, text) {
  const submitted = new Date();
  return stats(pdu.destination_addr, part.seq, part.total).map(([stat, err]) => {
    const body = `id:${textId(n, id)} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} ` +
      `submit date:${stamp(submitted)} done date:${stamp(new Date())} stat:${stat} err:${err} ` +
      `text:${text.slice(0, 20).replace(/[^\x20-\x7e]/g, '?')}`;
    const fields = {
      source_addr_ton: pdu.dest_addr_ton, source_addr_npi: pdu.dest_addr_npi,
      source_addr: pdu.destination_addr,
      dest_addr_ton: pdu.source_addr_ton, dest_addr_npi: pdu.source_addr_npi,
      destination_addr: pdu.source_addr,
      esm_class: 0x04, data_coding: 0, short_message: Buffer.from(body, 'ascii'),
    };
    if (config.receipt_tlvs) {
      fields.receipted_message_id = id;
      fields.message_state = STATES[stat];
      if (stat !== 'DELIVRD' && stat !== 'ACCEPTD') fields.network_error_code = Buffer.from([3, 0, Number(err)]);
    }
    return { kind: 'receipt', message_id: id, stat, fields, attempts: 0 };
  });
}

// --- sending deliver_sm / data_sm, with retries like a real SMSC --------------------------

function receivers() {
  return [...sessions].filter((s) => s.role === 'transceiver' || s.role === 'receiver');
}

function deliver(job) {
  const targets = receivers();
  if (!targets.length) {
    queued.push(job);
    return;
  }
  const s = targets[rr++ % targets.length];
  job.attempts += 1;
  const command = job.command || 'deliver_sm';
  let answered = false;
  const timer = setTimeout(() => {
    if (!answered && job.attempts < 5) deliver(job);
  }, 3000);
  const sent = s.session[command](Object.assign({}, job.fields), (resp) => {
    answered = true;
    clearTimeout(timer);
    log({ type: `${command}_resp`, kind: job.kind, message_id: job.message_id, status: resp.command_status, session: s.id });
    if (resp.command_status !== 0 && job.attempts < 5) setTimeout(() => deliver(job), 200);
  });
  if (!sent) {
    clearTimeout(timer);
    queued.push(job);
    return;
  }
  log({ type: command, kind: job.kind, message_id: job.message_id, stat: job.stat, session: s.id });
}

function flushQueued() {
  while (queued.length && receivers().length) deliver(queued.shift());
}

function scheduleReceipts(jobs, delay) {
  jobs.forEach((job, i) => {
    if (config.hold_receipts) held.push(job);
    else setTimeout(() => deliver(job), delay + i * 20);
  });
}

// --- the SMPP server ----------------------------------------------------------------------

function onSubmit(s, pdu) {
  if (s.role !== 'transceiver' && s.role !== 'transmitter') {
    s.session.send(pdu.response({ command_status: ESME.ESME_RINVBNDSTS }));
    return;
  }
  s.inflight += 1;
  s.maxInflight = Math.max(s.maxInflight, s.inflight);
  maxInflight = Math.max(maxInflight, s.inflight);
  const respond = (options, after) => setTimeout(() => {
    s.inflight -= 1;
    s.session.send(pdu.response(options));
    if (after) after();
  }, config.resp_delay_ms);
  if (config.throttle_next > 0) {
    config.throttle_next -= 1;
    log({ type: 'throttled', session: s.id, destination_addr: pdu.destination_addr });
    respond({ command_status: config.throttle_status });
    return;
  }
  if (pdu.destination_addr.endsWith('0008')) {
    respond({ command_status: ESME.ESME_RINVDSTADR });
    return;
  }
  const n = nextId++;
  const id = formatId(n);
  const part = readPart(pdu);
  record(pdu, part, id);
  log({ type: 'submit_sm', session: s.id, message_id: id, seq: part.seq, total: part.total });
  const jobs = receipts(pdu, part, n, id, decodeText(part.units, part.dc));
  if (config.receipt_before_resp) {
    scheduleReceipts(jobs, 0);
    setTimeout(() => respond({ message_id: id }), 150);
  } else {
    respond({ message_id: id }, () => scheduleReceipts(jobs, config.receipt_delay_ms));
  }
}

const server = smpp.createServer((session) => {
  const s = { id: ++sessionSeq, session, role: null, inflight: 0, maxInflight: 0 };
  sessions.add(s);
  log({ type: 'connect', session: s.id });
  session.on('error', (e) => log({ type: 'error', session: s.id, message: String(e && e.message) }));
  session.on('close', () => {
    sessions.delete(s);
    log({ type: 'close', session: s.id });
  });
  for (const role of ['transceiver', 'transmitter', 'receiver']) {
    session.on(`bind_${role}`, (pdu) => {
      let status = 0;
      if (pdu.system_id !== config.system_id) status = ESME.ESME_RINVSYSID;
      else if (pdu.password !== config.password) status = ESME.ESME_RINVPASWD;
      else if (config.refuse_binds) status = ESME.ESME_RBINDFAIL;
      log({ type: 'bind', role, session: s.id, status, interface_version: pdu.interface_version });
      if (status) {
        session.send(pdu.response({ command_status: status }));
        return;
      }
      s.role = role;
      session.send(pdu.response({ system_id: 'simsc' }));
      flushQueued();
    });
  }
  session.on('enquire_link', (pdu) => {
    log({ type: 'enquire_link', session: s.id });
    session.send(pdu.response());
  });
  session.on('unbind', (pdu) => {
    log({ type: 'unbind', session: s.id, role: s.role });
    s.role = null;
    session.send(pdu.response(), () => session.close());
  });
  session.on('unbind_resp', () => log({ type: 'unbind_resp', session: s.id }));
  session.on('submit_sm', (pdu) => onSubmit(s, pdu));
  session.on('generic_nack', (pdu) => log({ type: 'generic_nack', session: s.id, status: pdu.command_status }));
  session.on('unknown', (pdu) => session.send(pdu.response()));
});

// --- mobile-originated messages -----------------------------------------------------------

let moRef = 40;

function moJobs(req) {
  const coding = req.coding || 'gsm';
  const command = req.command || 'deliver_sm';
  const packed = req.packed !== undefined ? req.packed : config.gsm7_packed;
  const size = req.part_chars || (coding === 'ucs2' ? 67 : 153);
  const chunks = [];
  for (let i = 0; i < req.text.length; i += size) chunks.push(req.text.slice(i, i + size));
  if (!chunks.length) chunks.push('');
  const mode = req.concat || (chunks.length > 1 ? 'udh8' : 'single');
  const base = {
    source_addr_ton: req.from_ton !== undefined ? req.from_ton : 1, source_addr_npi: 1,
    source_addr: req.from,
    dest_addr_ton: req.to_ton !== undefined ? req.to_ton : 1, dest_addr_npi: 1,
    destination_addr: req.to,
  };
  const text = (chunk, udhOctets) => {
    const enc = encodeText(chunk, coding);
    return { dc: enc.dc, data: enc.dc === 0 && packed ? pack(enc.data, udhOctets) : enc.data };
  };
  const job = (fields) => ({ kind: 'mo', command, fields, attempts: 0 });
  const carry = (fields, data) => {
    if (command === 'data_sm') fields.message_payload = data;
    else fields.short_message = data;
    return fields;
  };
  if (mode === 'single' || mode === 'payload') {
    const all = text(req.text, 0);
    const fields = Object.assign({}, base, { esm_class: 0, data_coding: all.dc });
    if (mode === 'payload') fields.message_payload = all.data;
    else carry(fields, all.data);
    return [job(fields)];
  }
  const ref = moRef++;
  const jobs = chunks.map((chunk, i) => {
    const fields = Object.assign({}, base, { esm_class: 0 });
    if (mode === 'sar') {
      const t = text(chunk, 0);
      fields.data_coding = t.dc;
      fields.sar_msg_ref_num = ref;
      fields.sar_total_segments = chunks.length;
      fields.sar_segment_seqnum = i + 1;
      return job(carry(fields, t.data));
    }
    const udh = mode === 'udh16'
      ? Buffer.from([6, 8, 4, (ref >> 8) & 0xff, ref & 0xff, chunks.length, i + 1])
      : Buffer.from([5, 0, 3, ref & 0xff, chunks.length, i + 1]);
    const t = text(chunk, udh.length);
    fields.esm_class = 0x40;
    fields.data_coding = t.dc;
    return job(carry(fields, Buffer.concat([udh, t.data])));
  });
  if (req.reverse) jobs.reverse();
  return jobs;
}

// --- admin HTTP ---------------------------------------------------------------------------

function state() {
  return {
    config,
    sessions: [...sessions].map((s) => ({ id: s.id, role: s.role, inflight: s.inflight, max_inflight: s.maxInflight })),
    max_inflight: maxInflight,
    submits,
    messages,
    events,
    held: held.length,
    queued: queued.length,
  };
}

const routes = {
  'GET /state': () => state(),
  'POST /config': (body) => { Object.assign(config, body); return config; },
  'POST /reset': () => { submits = []; messages = []; events = []; held = []; maxInflight = 0; return {}; },
  'POST /release': (body) => {
    const count = body.count === undefined ? held.length : body.count;
    const out = held.splice(0, count);
    out.forEach((job, i) => setTimeout(() => deliver(job), i * 20));
    return { released: out.length };
  },
  'POST /mo': (body) => {
    const jobs = moJobs(body);
    jobs.forEach((job, i) => setTimeout(() => deliver(job), i * 20));
    return { parts: jobs.length };
  },
  'POST /drop': () => {
    const n = sessions.size;
    for (const s of sessions) s.session.destroy();
    return { dropped: n };
  },
  'POST /unbind': () => {
    for (const s of sessions) s.session.unbind();
    return {};
  },
};

const admin = http.createServer((req, res) => {
  let data = '';
  req.on('data', (chunk) => { data += chunk; });
  req.on('end', () => {
    const route = routes[`${req.method} ${req.url}`];
    let status = 200;
    let result;
    try {
      if (!route) { status = 404; result = { error: 'no such route' }; }
      else result = route(data ? JSON.parse(data) : {});
    } catch (e) {
      status = 400;
      result = { error: String(e && e.stack) };
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(result));
  });
});

server.on('error', (e) => { console.error(e); process.exit(1); });
server.listen(Number(arg('--port', 0)), '127.0.0.1', () => {
  admin.listen(Number(arg('--admin-port', 0)), '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({
      smpp_port: server.address().port, admin_port: admin.address().port,
    }) + '\n');
  });
});

// Stop with the test run even if the parent forgets to: stdin closing means it is gone.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
