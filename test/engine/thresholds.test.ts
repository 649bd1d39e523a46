import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_THRESHOLDS } from "../../src/engine/threshold-defaults.js";
import { ThresholdsSchema } from "../../src/engine/thresholds.js";

describe("threshold defaults", () => {
  it("are what the schema gives for an empty config, in the same order", () => {
    const parsed = ThresholdsSchema.parse({});
    assert.deepEqual(parsed, DEFAULT_THRESHOLDS);
    assert.deepEqual(Object.keys(parsed), Object.keys(DEFAULT_THRESHOLDS));
  });
});
