// The hand-encoded self-signed certificate: Node's X509Certificate parses it, the names and
// addresses are in subjectAltName, it verifies with its own key, and a real HTTPS server using
// it is accepted by a TLS client that trusts only this certificate.
import test from 'ava';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate, WEBHOOK_DNS_NAMES } from '../../webhook/self-signed.ts';

test('the certificate parses, names its hosts and IPs, and verifies with its own key', (t) => {
  const now = new Date('2030-06-01T12:00:00Z');
  const { cert, key } = selfSignedCertificate({ now, validDays: 30 });
  t.regex(cert, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/);
  const x = new X509Certificate(cert);
  t.is(x.subject, 'CN=localhost');
  t.is(x.issuer, 'CN=localhost');
  t.is(new Date(x.validFrom).toISOString(), '2030-06-01T11:59:00.000Z');
  t.is(new Date(x.validTo).toISOString(), '2030-07-01T12:00:00.000Z');
  for (const host of WEBHOOK_DNS_NAMES) t.is(x.checkHost(host), host, host);
  t.is(x.checkHost('example.com'), undefined);
  t.is(x.checkIP('127.0.0.1'), '127.0.0.1');
  t.is(x.checkIP('::1'), '::1');
  t.is(x.checkIP('10.0.0.1'), undefined);
  t.false(x.ca);
  t.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']); // extKeyUsage serverAuth
  t.true(x.verify(x.publicKey));
  t.true(x.checkPrivateKey(createPrivateKey(key)));
  t.false(x.verify(createPublicKey(selfSignedCertificate().key)), 'another key does not verify it');
  t.is(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
});

test('custom names, an IPv6 address and a date past 2049 (GeneralizedTime)', (t) => {
  const { cert } = selfSignedCertificate({
    commonName: 'knts test',
    dnsNames: ['a.example', '*.b.example'],
    ipAddresses: ['10.1.2.3', 'fd00::1:2', '::ffff:192.0.2.1'],
    now: new Date('2060-01-01T00:00:00Z'),
  });
  const x = new X509Certificate(cert);
  t.is(x.subject, 'CN=knts test');
  t.is(x.checkHost('a.example'), 'a.example');
  t.is(x.checkHost('x.b.example'), '*.b.example');
  t.is(x.checkIP('10.1.2.3'), '10.1.2.3');
  t.is(x.checkIP('fd00:0:0:0:0:0:1:2'), 'fd00:0:0:0:0:0:1:2');
  t.regex(x.subjectAltName ?? '', /IP Address:10\.1\.2\.3, IP Address:FD00:0:0:0:0:0:1:2, IP Address:0:0:0:0:0:FFFF:C000:201/i);
  t.is(new Date(x.validTo).toISOString(), '2060-12-31T00:00:00.000Z'); // 2060 is a leap year
  t.true(x.verify(x.publicKey));
});

test('every certificate has its own key and serial number', (t) => {
  const a = new X509Certificate(selfSignedCertificate().cert);
  const b = new X509Certificate(selfSignedCertificate().cert);
  t.not(a.serialNumber, b.serialNumber);
  t.not(a.fingerprint256, b.fingerprint256);
  t.false(/^[89A-F]/i.test(a.serialNumber), 'the serial is a positive INTEGER');
});

test('an HTTPS server with the certificate is trusted by a client that has it as its CA', async (t) => {
  const { cert, key } = selfSignedCertificate();
  const server = createServer({ cert, key }, (_req, res) => res.end('hello over TLS'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const get = (servername: string, ca?: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', servername, ...(ca === undefined ? {} : { ca }), agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    t.is(await get('webhook.knative-serving.svc', cert), 'hello over TLS');
    t.is(await get('localhost', cert), 'hello over TLS');
    const untrusted = await t.throwsAsync(get('localhost'));
    t.regex(untrusted?.message ?? '', /self.signed/i);
    const wrongHost = await t.throwsAsync(get('other.example', cert));
    t.regex(wrongHost?.message ?? '', /altnames|Hostname/i);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
