/**
 * The headers of a response whose body was read without a declared length (chunked), with
 * `Content-Length` the bytes read. `get` answers from the response's own headers;
 * the copy with the length is made when anything else is asked (listed, changed, copied,
 * inspected). Why lazy: a copy validates every header again, and under load it cost more than
 * any function of asc-kit's own, while a call's own path only reads one or two headers.
 * Node.js, Deno, Bun, workerd and Chromium copy a Headers object through its iterator (the
 * runtime smoke test checks it), so a copy of these headers is whole.
 */
class LengthHeaders extends Headers {
  #source: Headers | undefined;
  readonly #length: string;

  constructor(source: Headers, length: string) {
    super();
    this.#source = source;
    this.#length = length;
  }

  override get(name: string): string | null {
    const source = this.#source;
    if (!source) return super.get(name);
    return isLength(name) ? this.#length : source.get(name);
  }

  /** The headers as one list of their own, made now if not yet. */
  #filled(): this {
    const source = this.#source;
    if (source) {
      this.#source = undefined;
      for (const [name, value] of source) super.append(name, value);
      super.set("content-length", this.#length);
    }
    return this;
  }

  static {
    // Everything else the runtime's Headers has (iterators, forEach, set, an inspect hook, Bun's
    // count…) works on the copy: filled first.
    const onCopy = (native: (...args: unknown[]) => unknown) =>
      function (this: LengthHeaders, ...args: unknown[]) {
        return native.apply(this.#filled(), args);
      };
    for (const key of Reflect.ownKeys(Headers.prototype)) {
      if (key === "constructor" || key === "get") continue;
      const { value, get } = Object.getOwnPropertyDescriptor(Headers.prototype, key)!;
      if (typeof value === "function") {
        Object.defineProperty(this.prototype, key, { value: onCopy(value), writable: true });
      } else if (get) {
        Object.defineProperty(this.prototype, key, { get: onCopy(get) });
      }
    }
  }
}

function isLength(name: string): boolean {
  return name.length === 14 && name.toLowerCase() === "content-length";
}

/**
 * `headers` with `Content-Length: length` (the bytes read of a body that came without one),
 * without copying them until something other than `get` is asked of them.
 *
 * @example
 * ```ts
 * const headers = withReadLength(response.headers, bytes.byteLength);
 * headers.get("content-length"); // the bytes read
 * ```
 */
export function withReadLength(headers: Headers, length: number): Headers {
  return new LengthHeaders(headers, String(length));
}
