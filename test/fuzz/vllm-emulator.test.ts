import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { VllmEmulator } from "../../src/playground/vllm/server.js";
import { Tally, anyValue, boundedAsync, fuzzParameters } from "./support.js";

/**
 * The emulator's HTTP API under arbitrary requests: every answer is a well-formed HTTP response within
 * the bound (no dropped connection, no 5xx), errors are JSON with a message, accepted completions have
 * choices and usage, and the server keeps serving afterwards.
 */
const MODEL = "fuzz-model";
const CLIENT_ERRORS = new Set([400, 404, 405, 413, 429]);

const path = fc.constantFrom(
  "/v1/completions",
  "/v1/chat/completions",
  "/v1/models",
  "/metrics",
  "/health",
  "/nope",
  "/v1/completions?x=%ZZ",
);

const prompt = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.array(fc.integer({ min: -5, max: 70_000 }), { maxLength: 20 }),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }),
  fc.array(fc.array(fc.nat(1000), { maxLength: 5 }), { maxLength: 3 }),
  anyValue,
);

const body = fc.oneof(
  // plausible requests with hostile fields
  fc
    .record(
      {
        model: fc.oneof(fc.constant(MODEL), anyValue),
        prompt,
        messages: fc.oneof(
          fc.array(
            fc.record({ role: fc.constantFrom("user", "system"), content: fc.oneof(fc.string(), anyValue) }),
            {
              maxLength: 3,
            },
          ),
          anyValue,
        ),
        max_tokens: fc.oneof(fc.integer({ min: 1, max: 3 }), anyValue),
        stream: fc.oneof(fc.boolean(), anyValue),
        stream_options: fc.oneof(fc.record({ include_usage: fc.boolean() }), anyValue),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  anyValue.map((v) => JSON.stringify(v) ?? ""),
  fc.string({ maxLength: 50 }),
);

describe("fuzz: vLLM emulator HTTP API", () => {
  const emu = new VllmEmulator({
    model: MODEL,
    // fast iterations and a small cache, so accepted requests finish quickly and big prompts are refused
    engine: { maxBatch: 4, kvBlocks: 64, blockSize: 16, alpha: 1, beta: 0.01, gamma: 0.0001, maxQueue: 8 },
  });
  before(async () => {
    await emu.start({ host: "127.0.0.1", port: 0 });
  });
  after(async () => {
    await emu.stop();
  });

  it("answers every request with a well-formed response within the bound", async () => {
    const tally = new Tally("vLLM emulator HTTP API");
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("GET", "POST", "PUT", "DELETE"), path, body, async (method, p, b) => {
        tally.tried++;
        const res = await boundedAsync(
          `${method} ${p}`,
          fetch(`${emu.url}${p}`, {
            method,
            headers: { "content-type": "application/json" },
            body: method === "GET" ? undefined : b,
          }).then(async (r) => ({
            status: r.status,
            type: r.headers.get("content-type") ?? "",
            text: await r.text(),
          })),
        );
        assert.ok(res.status < 500, `HTTP ${res.status}: ${res.text.slice(0, 200)}`);
        if (res.status !== 200) {
          tally.rejected++;
          assert.ok(CLIENT_ERRORS.has(res.status), `HTTP ${res.status}`);
          const err = JSON.parse(res.text) as { error?: { message?: unknown } };
          assert.equal(typeof err.error?.message, "string");
          return;
        }
        tally.accepted++;
        if (method === "POST" && p.startsWith("/v1/") && res.type.includes("json")) {
          const ok = JSON.parse(res.text) as { choices?: unknown[]; usage?: { completion_tokens?: number } };
          assert.ok(Array.isArray(ok.choices) && ok.choices.length === 1);
          assert.ok((ok.usage?.completion_tokens ?? 0) >= 1);
        }
        if (res.type.includes("event-stream")) assert.match(res.text, /data: \[DONE\]\n\n$/);
      }),
      fuzzParameters(),
    );
    // still serving
    assert.equal((await fetch(`${emu.url}/health`)).status, 200);
    tally.report();
  });
});
