// When signatures begin and end. Time is cut into epochs of 3/4 of the validity: every signature
// made in an epoch shares its inception and expiration, so the same RRset always signs to the same
// cached RRSIG, and each signature is replaced once 3/4 of its lifetime has passed.

export interface SigningWindow {
  /** Which epoch: changes mean every cached signature and answer is due for renewal. */
  epoch: number;
  /** Unix seconds. Back-dated so validators with a slow clock accept it. */
  inception: number;
  expiration: number;
  /** ms since epoch when this window's signatures are replaced. */
  renewAt: number;
}

export interface WindowSettings {
  /** Signature lifetime, ms (dnssec.signature_validity). */
  validityMs: number;
  /** How far inception is back-dated, ms (dnssec.inception_offset). */
  inceptionOffsetMs: number;
}

export function signingWindow(nowMs: number, settings: WindowSettings): SigningWindow {
  const epochLength = Math.floor((settings.validityMs * 3) / 4);
  const epoch = Math.floor(nowMs / epochLength);
  const start = epoch * epochLength;
  return {
    epoch,
    inception: Math.floor((start - settings.inceptionOffsetMs) / 1000),
    expiration: Math.floor((start + settings.validityMs) / 1000),
    renewAt: start + epochLength,
  };
}
