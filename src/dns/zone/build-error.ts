/** A problem with what dns.zones, dns.records, dns.nameservers and services say together. */
export class ZoneBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZoneBuildError";
  }
}
