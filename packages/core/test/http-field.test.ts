import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FRAMING_FIELDS,
  fieldValueProblem,
  headerTemplateVariables,
  isBadIpv4,
  isFieldName,
  isFieldValue,
  isHostname,
  parseHostPort,
  renderHeaderTemplate,
} from '../src/index.js';

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

test('a field name is one or more tchar (RFC 9110 §5.6.2), nothing else', () => {
  for (let c = 0; c < 0x300; c++) {
    const ch = String.fromCharCode(c);
    assert.equal(isFieldName(`X${ch}`), TCHAR.includes(ch), `U+${c.toString(16)}`);
  }
  assert.equal(isFieldName(''), false);
  assert.equal(isFieldName('X-Forwarded-For'), true);
});

test('a field value holds HTAB, SP, VCHAR and obs-text (0x80-0xFF): no CTL, no DEL, nothing above one byte', () => {
  for (let c = 0; c < 0x300; c++) {
    const allowed = c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
    assert.equal(isFieldValue(`a${String.fromCharCode(c)}b`), allowed, `U+${c.toString(16)}`);
    assert.equal(fieldValueProblem(`a${String.fromCharCode(c)}b`) === null, allowed);
  }
  assert.equal(isFieldValue(''), true);
  assert.equal(isFieldValue('caf\u00e9'), true);
  assert.equal(isFieldValue('a\uffffb'), false);
  assert.equal(isFieldValue('\u{1F600}'), false);
  assert.equal(
    fieldValueProblem('\u0100'),
    'U+0100 at character 1 is above U+00FF and cannot be written as one byte (a header value is bytes: visible ASCII, tab, space and 0x80-0xFF)',
  );
  assert.match(fieldValueProblem('a\r\nb: c') ?? '', /^U\+000D at character 2 is a line break/);
  assert.match(fieldValueProblem('a\x7f') ?? '', /^U\+007F at character 2 is a control character/);
});

test('framing and connection fields are the ones a configured value would break', () => {
  for (const name of ['content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive', 'proxy-connection']) {
    assert.ok(FRAMING_FIELDS.has(name), name);
  }
  assert.ok(!FRAMING_FIELDS.has('host'));
});

test('header templates substitute the four variables as the data plane does', () => {
  const values = { client_ip: '10.0.0.1', client_port: '5555', backend_name: 'api', backend_addr: '10.0.0.2:80' };
  assert.equal(renderHeaderTemplate('$client_ip:$client_port via $backend_name@$backend_addr $other', values), '10.0.0.1:5555 via api@10.0.0.2:80 $other');
  assert.deepEqual(headerTemplateVariables('$backend_addr and $client_ip, $nope'), ['backend_addr', 'client_ip']);
});

test('a dotted number that is not an IPv4 address is not a host name either', () => {
  for (const host of ['256.1.1.1', '1.2.3', '10.0.0.256', '1.2.3.4.5', '999']) {
    assert.equal(isHostname(host), false, host);
    assert.equal(parseHostPort(`${host}:80`), null, host);
  }
  assert.equal(isBadIpv4('256.1.1.1'), true);
  assert.equal(isBadIpv4('1.2.3.4'), false);
  for (const host of ['localhost', 'api.example.com', 'a1.b2', '1password.com', 'svc-1.ns.svc.cluster.local.']) assert.equal(isHostname(host), true, host);
  assert.deepEqual(parseHostPort('1.2.3.4:80'), { host: '1.2.3.4', port: 80 });
});
