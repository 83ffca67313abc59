// A self-signed X.509 certificate for the webhook's HTTPS port, made with node:crypto alone: an
// ECDSA P-256 key, and the TBSCertificate encoded by hand in DER (RFC 5280) because Node can
// parse and verify certificates but not issue them. The certificate is its own CA bundle: a
// client (or a webhook configuration's caBundle) that trusts it accepts the server.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** The names Knative's webhook Service answers to (Service `webhook` in `knative-serving`). */
export const WEBHOOK_DNS_NAMES: readonly string[] = [
  'localhost',
  'webhook',
  'webhook.knative-serving',
  'webhook.knative-serving.svc',
  'webhook.knative-serving.svc.cluster.local',
];
export const WEBHOOK_IP_ADDRESSES: readonly string[] = ['127.0.0.1', '::1'];

export interface SelfSignedOptions {
  /** Subject and issuer CN; default the first DNS name. */
  readonly commonName?: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Default 365. */
  readonly validDays?: number;
  /** Start of validity (a minute earlier, for clock skew); default now. */
  readonly now?: Date;
}

export interface SelfSigned {
  /** PEM `CERTIFICATE`. */
  readonly cert: string;
  /** PEM `PRIVATE KEY` (PKCS #8). */
  readonly key: string;
}

export function selfSignedCertificate(options: SelfSignedOptions = {}): SelfSigned {
  const dnsNames = options.dnsNames ?? WEBHOOK_DNS_NAMES;
  const ips = options.ipAddresses ?? WEBHOOK_IP_ADDRESSES;
  const commonName = options.commonName ?? dnsNames[0] ?? 'knts-webhook';
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + (options.validDays ?? 365) * 86_400_000);

  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const name = seq(set(seq(oid(OID.commonName), utf8(commonName))));
  const algorithm = seq(oid(OID.ecdsaWithSha256)); // no parameters for ECDSA (RFC 5758)

  const altNames = [
    ...dnsNames.map((n) => tlv(0x82, Buffer.from(n, 'ascii'))), // [2] dNSName, IA5String
    ...ips.map((ip) => tlv(0x87, ipBytes(ip))), // [7] iPAddress, 4 or 16 octets
  ];
  const extensions = seq(
    extension(OID.basicConstraints, true, seq()), // cA FALSE is the DEFAULT, so omitted
    extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)), // digitalSignature only
    extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
    extension(OID.subjectAltName, false, seq(...altNames)),
  );
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // [0] EXPLICIT version v3
    integer(serialNumber()),
    algorithm,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    spki,
    tlv(0xa3, extensions), // [3] EXPLICIT extensions
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value for EC keys
  const certificate = seq(tbs, algorithm, bitString(signature, 0));
  return {
    cert: pem('CERTIFICATE', certificate),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

// ---------------------------------------------------------------------------------------------
// DER (X.690) encoding of the few types a certificate needs.

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const octetString = (b: Buffer): Buffer => tlv(0x04, b);
const boolean = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const bitString = (b: Buffer, unusedBits: number): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));

/** A non-negative INTEGER from big-endian bytes: minimal, with a 0 byte when the top bit is set. */
function integer(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * (arcs[0] ?? 0) + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const base128: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f));
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2025-01-02T03:04:05.678Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20250102030405Z
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** 16 random bytes, positive and non-zero (RFC 5280 4.1.2.2 allows up to 20 octets). */
function serialNumber(): Buffer {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x01;
  return b;
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`${JSON.stringify(ip)} is not an IP address`);
  const [head = '', tail] = ip.split('::');
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const expand = (parts: string[]): number[] =>
    parts.flatMap((p) => (p.includes('.') ? ipv4AsGroups(p) : [parseInt(p, 16)]));
  const left = expand(groups(head));
  const right = tail === undefined ? [] : expand(groups(tail));
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** The trailing dotted quad of `::ffff:1.2.3.4` as two 16-bit groups. */
function ipv4AsGroups(quad: string): number[] {
  const [a = 0, b = 0, c = 0, d = 0] = quad.split('.').map(Number);
  return [(a << 8) | b, (c << 8) | d];
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
