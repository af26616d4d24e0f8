/**
 * The headers of a response whose body was read without a declared length (chunked), with
 * `Content-Length` the bytes read. `get` answers from the response's own headers;
 * the copy with the length is made when anything else is asked (listed, changed, copied,
 * inspected). Why lazy: a copy validates every header again, and under load it cost more than
 * any function of asc-kit's own, while a call's own path only reads one or two headers.
 */
class LengthHeaders extends Headers {
  #source: Headers | undefined;
  readonly #length: string;

  constructor(source: Headers, length: string, lazy: boolean) {
    super();
    this.#source = source;
    this.#length = length;
    if (!lazy) this.#filled();
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
 * Whether this runtime copies a Headers object through its iterator (Node.js, Deno, Chromium).
 * Bun and workerd copy the object's own list, empty until the copy is made: there it is made at
 * once. The runtime smoke test copies such headers in each of them.
 */
let copiedThroughIterator: boolean | undefined;

/**
 * `headers` with `Content-Length: length` (the bytes read of a body that came without one),
 * without copying them until something other than `get` is asked of them where the runtime
 * allows.
 *
 * @example
 * ```ts
 * const headers = withReadLength(response.headers, bytes.byteLength);
 * headers.get("content-length"); // the bytes read
 * ```
 */
export function withReadLength(headers: Headers, length: number): Headers {
  copiedThroughIterator ??= new Headers(new LengthHeaders(new Headers({ a: "" }), "0", true)).has(
    "a",
  );
  return new LengthHeaders(headers, String(length), copiedThroughIterator);
}
