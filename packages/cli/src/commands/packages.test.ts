import { describe, expect, it } from "vitest";
import { describeChecksums } from "./packages.js";

describe("describeChecksums", () => {
  it("shows the file branch, else the composite one named as such, else none", () => {
    const hash = "ab".repeat(32);
    expect(describeChecksums({ file: { hash, algorithm: "SHA_256" } })).toBe(`SHA_256 ${hash}`);
    expect(describeChecksums({ composite: { hash: "cd", algorithm: "MD5" } })).toBe(
      "MD5 cd (composite)",
    );
    expect(describeChecksums({ file: {} })).toBe("? ?");
    expect(describeChecksums({})).toBe("none");
    expect(describeChecksums(undefined)).toBe("none");
  });
});
