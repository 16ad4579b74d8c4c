'use strict';
// The SMPP simulator's own ceiling: a load client that is not Switchboard.
//
// Binds once as a transceiver to tests/smpp/simulator/simulator.js, keeps `--window`
// submit_sm outstanding until `--messages` have been sent, answers every deliver_sm with
// deliver_sm_resp, and stops once every receipt is in (or after `--timeout` seconds). It
// uses the same npm package as the simulator (node-smpp), so the figure does not depend on
// Switchboard's code: run it with NODE_PATH=tests/smpp/simulator/node_modules.
//
// Usage: node smpp_ceiling.js --port N --messages N [--window 64] [--system-id ID]
//        [--password PW] [--from DIGITS] [--to DIGITS] [--text T] [--timeout S]
// Prints one JSON line with counts, times (ms from the first submit_sm) and latencies.

const smpp = require('smpp');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const opts = {
  port: Number(arg('--port', 2775)),
  messages: Number(arg('--messages', 10000)),
  window: Number(arg('--window', 64)),
  systemId: arg('--system-id', 'switchboard'),
  password: arg('--password', 'secret'),
  from: arg('--from', '12025550142'),
  to: arg('--to', '13125550100'),
  text: arg('--text', 'Your Switchboard verification code is 493021. Reply STOP to opt out.'),
  timeoutMs: Number(arg('--timeout', 120)) * 1000,
};

const now = () => performance.now();
const st = {
  sent: 0, acked: 0, refused: 0, receipts: 0, unmatched_receipts: 0, other_deliver_sm: 0,
  bind_ms: null, first_submit: null, last_resp: null, last_receipt: null, timed_out: false,
  errors: [],
};
const sentAt = new Map(); // sequence number → time sent, until its submit_sm_resp
const idSentAt = new Map(); // message id → time its submit_sm was sent, until its receipt
const early = new Map(); // message id → arrival of a receipt that beat its submit_sm_resp
const respLatency = [];
const receiptLatency = [];
let session = null;
let finished = false;

function percentile(values, p) {
  if (!values.length) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function report() {
  const t0 = st.first_submit;
  const rel = (t) => (t === null || t0 === null ? null : t - t0);
  const submitMs = rel(st.last_resp);
  const receiptMs = rel(st.last_receipt);
  return {
    messages: opts.messages, window: opts.window, sent: st.sent, acked: st.acked,
    refused: st.refused, receipts: st.receipts, unmatched_receipts: st.unmatched_receipts,
    other_deliver_sm: st.other_deliver_sm, timed_out: st.timed_out, errors: st.errors,
    bind_ms: st.bind_ms, last_resp_ms: submitMs, last_receipt_ms: receiptMs,
    early_receipts_left: early.size, submits_per_s: submitMs ? (st.acked / submitMs) * 1000 : 0,
    receipts_per_s: receiptMs ? (st.receipts / receiptMs) * 1000 : 0,
    resp_p50_ms: percentile(respLatency, 50), resp_p99_ms: percentile(respLatency, 99),
    receipt_p50_ms: percentile(receiptLatency, 50), receipt_p99_ms: percentile(receiptLatency, 99),
  };
}

function finish(code) {
  if (finished) return;
  finished = true;
  process.stdout.write(JSON.stringify(report()) + '\n');
  const exit = () => process.exit(code);
  if (!session) return exit();
  setTimeout(exit, 2000); // unbind_resp never came: leave anyway
  session.unbind({}, () => session.close(exit));
}

function maybeDone() {
  if (st.acked + st.refused === opts.messages && st.receipts >= st.acked) finish(0);
}

function countReceipt(sent, arrived) {
  st.receipts += 1;
  st.last_receipt = Math.max(st.last_receipt || 0, arrived);
  receiptLatency.push(arrived - sent);
}

function onResp(seq, pdu) {
  const sent = sentAt.get(seq);
  sentAt.delete(seq);
  st.last_resp = now();
  respLatency.push(st.last_resp - sent);
  if (pdu.command_status !== 0) st.refused += 1;
  else {
    st.acked += 1;
    const id = String(pdu.message_id);
    if (early.has(id)) {
      countReceipt(sent, early.get(id));
      early.delete(id);
    } else idSentAt.set(id, sent);
  }
  pump();
  maybeDone();
}

function submitOne() {
  const t = now();
  if (st.first_submit === null) st.first_submit = t;
  st.sent += 1;
  const ok = session.submit_sm({
    source_addr_ton: 1, source_addr_npi: 1, source_addr: opts.from,
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: opts.to,
    registered_delivery: 1, short_message: opts.text,
  }, (pdu) => onResp(pdu.sequence_number, pdu));
  if (!ok) return finish(1);
  sentAt.set(session.sequence, t);
  return undefined;
}

function pump() {
  while (!finished && st.sent < opts.messages && sentAt.size < opts.window) submitOne();
}

function onDeliver(pdu) {
  session.send(pdu.response());
  if (!(pdu.esm_class & 0x04)) {
    st.other_deliver_sm += 1;
    return;
  }
  if (pdu.receipted_message_id === undefined) {
    st.unmatched_receipts += 1;
    return;
  }
  const id = String(pdu.receipted_message_id);
  const sent = idSentAt.get(id);
  if (sent === undefined) {
    early.set(id, now()); // counted when its submit_sm_resp arrives
    return;
  }
  idSentAt.delete(id);
  countReceipt(sent, now());
  maybeDone();
}

function main() {
  const began = now();
  session = smpp.connect({ host: '127.0.0.1', port: opts.port });
  session.on('error', (e) => { st.errors.push(String(e && e.message)); finish(1); });
  session.on('close', () => { if (!finished) { st.errors.push('connection closed'); finish(1); } });
  session.on('deliver_sm', onDeliver);
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('connect', () => {
    session.bind_transceiver({ system_id: opts.systemId, password: opts.password }, (pdu) => {
      if (pdu.command_status !== 0) {
        st.errors.push(`bind refused: status ${pdu.command_status}`);
        finish(1);
        return;
      }
      st.bind_ms = now() - began;
      pump();
    });
  });
  setTimeout(() => { st.timed_out = true; finish(2); }, opts.timeoutMs).unref();
}

main();
