// The certificates a `tls` balancer server terminates with, read and checked once at start:
// each key must match its certificate, and each certificate is offered for its `server_names`,
// or, when that list is empty, for the DNS names written in the certificate itself.

import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import type { LbCertificate } from "../config/types.ts";
import { errorMessage } from "../lib/errors.ts";

export interface KeyPair {
  cert: string;
  key: string;
}

export interface LoadedCertificates {
  /** The first certificate: for clients without a server name, or with one no certificate names. */
  fallback: KeyPair;
  /** Server name (possibly "*.parent") to certificate, in config order: the first naming a host wins. */
  byName: Map<string, KeyPair>;
}

/** Throws an Error naming the entry and file when one cannot be used. */
export function loadCertificates(certificates: readonly LbCertificate[]): LoadedCertificates {
  if (certificates.length === 0) throw new Error("tls.certificates: at least one certificate is needed to terminate TLS");
  const byName = new Map<string, KeyPair>();
  const pairs = certificates.map((entry, i) => {
    const where = `tls.certificates[${i}]`;
    const pair = { cert: readPem(`${where}.cert_path`, entry.cert_path), key: readPem(`${where}.key_path`, entry.key_path) };
    const names = entry.server_names.length > 0 ? entry.server_names : namesInCertificate(where, pair);
    checkKeyMatches(where, pair);
    for (const name of names) {
      const normal = name.toLowerCase().replace(/\.$/, "");
      if (!byName.has(normal)) byName.set(normal, pair);
    }
    return pair;
  });
  return { fallback: pairs[0]!, byName };
}

function readPem(where: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`${where}: cannot read ${JSON.stringify(path)}: ${errorMessage(err)}`);
  }
}

function parse(where: string, pair: KeyPair): X509Certificate {
  try {
    return new X509Certificate(pair.cert);
  } catch (err) {
    throw new Error(`${where}.cert_path: not a PEM certificate: ${errorMessage(err)}`);
  }
}

function checkKeyMatches(where: string, pair: KeyPair): void {
  let key;
  try {
    key = createPrivateKey(pair.key);
  } catch (err) {
    throw new Error(`${where}.key_path: not a PEM private key: ${errorMessage(err)}`);
  }
  if (!parse(where, pair).checkPrivateKey(key)) throw new Error(`${where}: the key in key_path does not belong to the certificate in cert_path`);
}

/** The subjectAltName DNS entries, or the subject's CN when there are none. */
function namesInCertificate(where: string, pair: KeyPair): string[] {
  const cert = parse(where, pair);
  const dns = (cert.subjectAltName ?? "")
    .split(/,\s*/)
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4));
  if (dns.length > 0) return dns;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn ? [cn] : [];
}
