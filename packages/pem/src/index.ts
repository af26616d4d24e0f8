export { PemError } from "./errors.js";
export type { PemErrorCode } from "./errors.js";
export { MAX_PEM_INPUT_LENGTH, normalizePem } from "./pem.js";
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
