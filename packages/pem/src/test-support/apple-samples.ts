/**
 * The two public keys on Apple's "Add an alternative distribution key" page. The first, sent
 * as single-line PEM, is damaged: its DER does not parse (`DA7021gAE` where a valid key has
 * `DAQcDQgAE`). The second, wrapped, is valid.
 */
export const appleCorruptSingleLine =
  "-----BEGIN PUBLIC KEY-----MFkwEwYHKoZIzj0CAQYIKoZIzj0DA7021gAEFQUkD1YB67wg3e0VD/2c3N3Wf92nuQqDgFZuYG/NcYLwT3Zdw77s6//8XSI2NYv7WNgUONxMj+j65Qijq4/fhw==-----END PUBLIC KEY-----";

export const appleWrapped = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFQUkD1YB67wg3e0VD/2c3N3Wf92n
uQqDgFZuYG/NcYLwT3Zdw77s6//8XSI2NYv7WNgUONxMj+j65Qijq4/fhw==
-----END PUBLIC KEY-----`;

/** The canonical form of {@link appleWrapped}. */
export const appleCanonical = `${appleWrapped}\n`;
