export { PemError } from "./errors.js";
export type { PemErrorCode } from "./errors.js";
export { normalizePem } from "./pem.js";
export type { NormalizePemOptions } from "./pem.js";
export {
  fingerprint,
  generateKeyPair,
  inspectKey,
  toPkcs8Der,
  toPkcs8Pem,
  toPublicKeyPem,
} from "./keys.js";
export type { KeyInfo, KeyInput } from "./keys.js";
