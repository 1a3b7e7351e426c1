/** A problem in dns.records; `line` is 1-based within that text (the caller adds the config path). */
export class RecordSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = "RecordSyntaxError";
  }
}
