/** SHA-256 of text, with Web Crypto: for hashed grants, PKCE challenges and CSP sources. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}
